"""A buyer's session as a real client keeps it: one token reused, renewed on 401, and
checkouts that retry a network error with the same Idempotency-Key.

Why a module of its own: the journeys describe *what* a shopper does; how a client talks to
the API (auth, route names in the statistics, retry rules) is one policy for all of them.
The requests themselves are the storefront's (``chaos.storefront.Calls``: paths, bodies,
headers, typed reading of the answers), sent here through Locust's FastHttpSession
(geventhttpclient, cheap on CPU), so the storefront pacts cover what the journeys send.
Request names are the calls' route templates (``/api/v1/orders/{id}``) so Locust groups by
route.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, TypeVar

import gevent

from chaos.storefront import Call, Calls, Order, OrderLine, Placed
from load.data import Buyer, idempotency_key

if TYPE_CHECKING:
    from locust.contrib.fasthttp import FastHttpSession, FastResponse, ResponseContextManager

T = TypeVar("T")

RETRYABLE = frozenset({0, 502, 503, 504})
"""Status codes after which a client may repeat a checkout (0: no answer, a network error)."""
TERMINAL = frozenset({"PAID", "PAYMENT_FAILED", "REJECTED"})
SAGA = "SAGA"
"""request_type of the saga's accept → terminal entries in Locust's statistics."""


class SagaIncomplete(Exception):
    """The order did not reach the expected terminal state within the polling bound."""


class BuyerSession:
    """Register once, log in, keep the token; log in again when the API answers 401."""

    def __init__(self, client: FastHttpSession, buyer: Buyer) -> None:
        self.client = client
        self.buyer = buyer
        self.token: str | None = None
        self.registered = False

    # ---- the transport ---------------------------------------------------------------------
    def send(self, call: Call[T], *, ok: tuple[int, ...] = (), what: str = ""
             ) -> tuple[int, T | None]:
        """Send one storefront call; (status, typed value) — the value is None unless the
        answer is a 2xx the call could read. A status in ``ok`` that is not 2xx (a 409 on a
        repeated registration, a 401 that renews the token) counts as success, no value."""
        with self.client.request(call.method, call.target, name=call.route,
                                 headers=call.request_headers(self.token),
                                 # bytes: documented, geventhttpclient sends them as is
                                 data=call.content,  # type: ignore[arg-type]
                                 catch_response=True) as response:
            status = response.status_code
            if 200 <= status < 300:
                try:
                    value = call.read(status, response.json())
                except (ValueError, KeyError, TypeError) as exc:
                    _fail(response, f"{what or call.name}: unreadable answer ({exc!r})")
                    return status, None
                response.success()
                return status, value
            if status in ok:
                response.success()
            else:
                _fail(response, what or call.method)
            return status, None

    # ---- auth ------------------------------------------------------------------------------
    def ensure(self) -> bool:
        """Registered and logged in (a failed attempt is retried at the next call)."""
        if not self.registered:
            # 409: an earlier attempt whose answer was lost did register
            status, _ = self._retrying(Calls.register(self.buyer.email, self.buyer.password,
                                                      self.buyer.name), "registration", ok=(409,))
            self.registered = status in (201, 409)
            if not self.registered:
                return False
        if self.token is None:
            self.login()
        return self.token is not None

    def login(self) -> None:
        _, token = self._retrying(Calls.login(self.buyer.email, self.buyer.password), "login")
        self.token = token.access_token if token is not None else None

    def _retrying(self, call: Call[T], what: str, *, ok: tuple[int, ...] = (),
                  attempts: int = 3, backoff_s: float = 0.2) -> tuple[int, T | None]:
        """Send, retried on no answer or 502/503/504 (registration and login are safe to
        repeat); the last status and value."""
        status: int = 0
        value: T | None = None
        for attempt in range(1, attempts + 1):
            status, value = self.send(call, ok=ok, what=what)
            if value is not None or status in ok or status not in RETRYABLE:
                break
            gevent.sleep(backoff_s * 2 ** (attempt - 1))
        return status, value

    # ---- calls -----------------------------------------------------------------------------
    def get(self, call: Call[T]) -> T | None:
        """A call with the token; a 401 renews the token and repeats once. None on failure."""
        for attempt in (1, 2):
            status, value = self.send(call, ok=(401,) if attempt == 1 else (), what="GET")
            if status == 401 and attempt == 1:
                self.login()  # an expired token is a protocol step, not an error
                continue
            return value
        return None

    def place_order(self, lines: list[OrderLine], payment_token: str, *,
                    attempts: int = 3, backoff_s: float = 0.2) -> Placed | None:
        """POST /orders with one Idempotency-Key for this checkout, reused on every retry."""
        call = Calls.place_order(lines, payment_token=payment_token,
                                 idempotency_key=idempotency_key())
        for attempt in range(1, attempts + 1):
            status, placed = self.send(call, ok=(401,), what="checkout")
            if placed is not None:
                return placed
            if status == 401:
                self.login()
                continue
            if status not in RETRYABLE:
                return None
            gevent.sleep(backoff_s * 2 ** (attempt - 1))
        return None

    def follow_order(self, order: Order, accepted_at: float, expected: str, *,
                     timeout_s: float, poll_interval_s: float) -> str | None:
        """Poll the order until it is terminal (bounded) and report accept → terminal.

        The time is reported as its own statistics entry (``SAGA checkout accept→<expected>``)
        through the request event, so the UI, the CSV and the gates see it beside the routes.
        """
        status: str = order.status
        deadline = accepted_at + timeout_s
        poll = Calls.get_order(order.id)
        while status not in TERMINAL and time.monotonic() < deadline:
            gevent.sleep(poll_interval_s)
            polled = self.get(poll)
            if polled is not None:
                status = polled.status
        elapsed_ms = (time.monotonic() - accepted_at) * 1000
        exception: Exception | None = None
        if status not in TERMINAL:
            exception = SagaIncomplete(f"order still {status} after {timeout_s:.0f} s")
        elif status != expected:
            exception = SagaIncomplete(f"order ended {status}, expected {expected}")
        self.client.request_event.fire(
            request_type=SAGA, name=saga_entry(expected), response_time=elapsed_ms,
            response_length=0, exception=exception, context={}, response=None, url=None,
            start_time=time.time() - elapsed_ms / 1000)
        return status if status in TERMINAL else None


def saga_entry(outcome: str) -> str:
    """The statistics name of the saga's accept → ``outcome`` time."""
    return f"checkout accept→{outcome}"


def _fail(response: ResponseContextManager | FastResponse, message: str) -> None:
    status = response.status_code
    error = getattr(response, "error", None)
    text = f"{message}: no answer ({error})" if status == 0 else f"{message}: HTTP {status}"
    failure = getattr(response, "failure", None)
    if failure is not None:
        failure(text)
