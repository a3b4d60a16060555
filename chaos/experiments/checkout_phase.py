"""A tracked checkout placed around a phase's injection, so a fault can land before the
request, while its saga is in flight, or after it ended (the matrix's checkout phases).

The continuous workload keeps running as well; this one order is what pins the phase. It is
recorded as accepted like any workload order, so every invariant covers it. During the
window a prober also reads the users and payments routes, which the checkout workload
never calls, so a fault on ``gateway_to_user`` or ``gateway_to_payment`` meets traffic.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import httpx

from chaos.experiments.workload import ORDERS, USERS, CheckoutWorkload
from chaos.invariants.base import TERMINAL

PAYMENTS = "/api/v1/payments"


@dataclass(slots=True)
class TrackedCheckout:
    """What happened to the phase's own checkout (goes into the journal's phase step)."""

    phase: str
    order_id: int | None = None
    accepted_at: float | None = None
    status_at_injection: str = ""
    thread: threading.Thread | None = field(default=None, repr=False)
    prober: threading.Thread | None = field(default=None, repr=False)
    stop: threading.Event = field(default_factory=threading.Event, repr=False)

    def as_json(self) -> dict[str, object]:
        return {"phase": self.phase, "order_id": self.order_id,
                "status_at_injection": self.status_at_injection}


def _place(workload: CheckoutWorkload, tracked: TrackedCheckout) -> None:
    buyer = workload.buyers[0]
    product = workload.product_ids[-1] if workload.product_ids else workload.probe_product
    assert product is not None
    with httpx.Client(base_url=workload.base_url,
                      timeout=workload.spec.request_timeout_s) as client:
        tracked.order_id = workload.place(client, buyer, [{"product_id": product,
                                                           "quantity": 1}], "tok_visa")
        tracked.accepted_at = time.time() if tracked.order_id is not None else None


def _status(workload: CheckoutWorkload, order_id: int) -> str:
    try:
        answer = httpx.get(f"{workload.base_url}{ORDERS}/{order_id}",
                           headers=workload.buyers[0].auth, timeout=5.0)
    except httpx.HTTPError:
        return "unknown"
    return str(answer.json().get("status", "unknown")) if answer.status_code == 200 \
        else f"http {answer.status_code}"


def before_injection(phase: str, workload: CheckoutWorkload | None,
                     terminal_wait_s: float = 20.0) -> TrackedCheckout | None:
    """``in_flight``: place the order, inject as soon as it is accepted. ``after``: place it
    and wait until it is terminal. ``before``: nothing yet (see :func:`after_injection`)."""
    if not phase or workload is None or not workload.buyers:
        return None
    tracked = TrackedCheckout(phase=phase)
    if phase in ("in_flight", "after"):
        _place(workload, tracked)
    if phase == "in_flight":
        tracked.status_at_injection = "accepted" if tracked.order_id else "refused"
    if phase == "after" and tracked.order_id is not None:
        deadline = time.monotonic() + terminal_wait_s
        status = "unknown"
        while time.monotonic() < deadline:
            status = _status(workload, tracked.order_id)
            if status in TERMINAL:
                break
            time.sleep(0.2)
        tracked.status_at_injection = status
    return tracked


def _probe_routes(workload: CheckoutWorkload, tracked: TrackedCheckout) -> None:
    """While the faults are in force, read through the routes the checkout workload does not
    use (users, payments), so every gateway edge carries judged traffic: the answers join
    the workload's samples, which ``api_fails_well`` reads."""
    buyer = workload.buyers[0]
    with httpx.Client(base_url=workload.base_url,
                      timeout=workload.spec.request_timeout_s) as client:
        while not tracked.stop.is_set():
            workload._send(client, "GET", f"{USERS}/me", headers=buyer.auth)
            order = tracked.order_id or 0
            workload._send(client, "GET", f"{PAYMENTS}?order_id={order}", headers=buyer.auth)
            tracked.stop.wait(0.5)


def after_injection(tracked: TrackedCheckout | None, workload: CheckoutWorkload | None) -> None:
    """Start the route prober; ``before``: the request is sent with the faults already in
    force (in a thread, as it may hang for the whole window)."""
    if tracked is None or workload is None:
        return
    tracked.prober = threading.Thread(target=_probe_routes, args=(workload, tracked),
                                      daemon=True, name="route-prober")
    tracked.prober.start()
    if tracked.phase != "before":
        return
    tracked.status_at_injection = "not yet requested"
    tracked.thread = threading.Thread(target=_place, args=(workload, tracked), daemon=True,
                                      name="tracked-checkout")
    tracked.thread.start()


def finish(tracked: TrackedCheckout | None, workload: CheckoutWorkload | None) -> None:
    if tracked is None or workload is None:
        return
    tracked.stop.set()
    for thread in (tracked.thread, tracked.prober):
        if thread is not None:
            thread.join(timeout=workload.spec.request_timeout_s + 5)
