"""Broker in the loop: each message pact's example published on ``crashcart.events`` with its
routing key reaches the consumer's real queue on the running platform and has its effect;
the same message again (same message id) has none; events out of order end correct.

Waiting is on the consumer's own counters (``crashcart_consumer_messages_total``), so a
redelivery is known to have been handled — as a duplicate — before its absence of effect is
asserted.

The platform is shared with later suites and global invariant checks, so every synthetic
order id first gets a PENDING row in order-service's database and every chain ends in a
state the invariants accept (PAID with exactly one approved charge, PAYMENT_FAILED or
REJECTED with none, stock conserved).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import allure
import pytest

from chaos.invariants.sources import Sources
from chaos.storefront import OrderLine, Storefront
from contracts.pactkit import ORDER, PAYMENT, PRODUCT, SERVICE_OF
from contracts.roundtrip import (
    MessageExample,
    db_transaction,
    db_value,
    fresh_id,
    message_examples,
    publish,
)
from contracts.roundtrip import with_ids as _with_ids
from suites.fixtures.platform import RunningPlatform
from suites.helpers.factories import admin_credentials, unique
from suites.helpers.metrics import sample
from suites.helpers.waiting import poll_until

pytestmark = [pytest.mark.platform, allure.epic("contracts"),
              allure.feature("broker in the loop")]

CONSUMED = "crashcart_consumer_messages_total"
QUEUE = {PRODUCT: "product.saga", ORDER: "order.saga", PAYMENT: "payment.saga"}
WAIT_S = 30.0


def _counter(platform: RunningPlatform, consumer: str, outcome: str) -> float:
    service = SERVICE_OF[consumer]
    return sample(platform.service_urls[service], CONSUMED, queue=QUEUE[consumer],
                  outcome=outcome) or 0.0


def _wait(probe: Callable[[], Any], expected: Any, what: str) -> None:
    seen = poll_until(probe, lambda v: v == expected, timeout=WAIT_S)
    assert seen == expected, f"{what}: {seen!r} after {WAIT_S:.0f}s, wanted {expected!r}"


@pytest.fixture(scope="module")
def shop(running_platform: RunningPlatform) -> Iterator[Storefront]:
    with Storefront(running_platform.gateway_url) as front:
        email, password = admin_credentials()
        yield front.as_user(front.login(email, password).access_token)


class Platform:
    """What the round trips read and arrange on the running platform."""

    def __init__(self, running: RunningPlatform, shop: Storefront) -> None:
        self.running, self.topology, self.shop = running, running.topology, shop

    def product(self, stock: int = 5) -> int:
        return self.shop.create_product(sku=unique("RT").upper(), name="Round trip product",
                                        price="19.99", stock=stock).id

    def stock(self, product_id: int) -> int:
        return self.shop.get_product(product_id).stock

    def reservation(self, order_id: int) -> str | None:
        return db_value(self.topology, "product",
                        "SELECT state FROM reservations WHERE order_id = $1", order_id)

    def payments(self, order_id: int) -> list[str]:
        found = db_value(self.topology, "payment", "SELECT array_agg(status ORDER BY id)"
                         " FROM payments WHERE order_id = $1", order_id)
        return list(found or [])

    def order_status(self, order_id: int) -> str | None:
        return db_value(self.topology, "order", "SELECT status FROM orders WHERE id = $1",
                        order_id)

    def announced(self, order_id: int) -> int:
        return int(db_value(self.topology, "order", "SELECT count(*) FROM outbox WHERE"
                            " (payload->>'order_id')::bigint = $1 AND event_type IN"
                            " ('order.paid', 'order.payment_failed')", order_id))

    def pending_order(self, user_id: int = 7001) -> int:
        """A PENDING order written straight into order-service's database (no saga started
        for it: only the published events move it)."""
        order_id = fresh_id()
        db_value(self.topology, "order",
                 "INSERT INTO orders (id, user_id, total, currency, idempotency_key,"
                 " request_hash) VALUES ($1, $2, 39.98, 'EUR', $3, 'roundtrip') RETURNING id",
                 order_id, user_id, f"rt-{order_id}")
        return order_id

    def reserve(self, order_id: int, product_id: int) -> None:
        """Precondition: ``order_id`` holds 2 units of ``product_id`` — written as
        product-service writes a reservation (available -> reserved, conserved), without
        an order.created that would start a charge."""
        db_transaction(self.topology, "product", [
            ("UPDATE products SET stock = stock - 2, reserved = reserved + 2 WHERE id = $1",
             (product_id,)),
            ("INSERT INTO reservations (order_id, state) VALUES ($1, 'RESERVED')", (order_id,)),
            ("INSERT INTO reservation_items (order_id, product_id, quantity) VALUES ($1, $2, 2)",
             (order_id, product_id))])
        assert self.reservation(order_id) == "RESERVED"

    def charge_for_real(self, order_id: int) -> None:
        """Let payment-service charge ``order_id`` once (an inventory.reserved), so an order an
        example moved to PAID has its one approved charge at the processor."""
        publish(self.topology, "inventory.reserved", {
            "order_id": order_id, "user_id": 7001, "amount": "39.98", "currency": "EUR",
            "payment_token": "tok_visa"})
        _wait(lambda: self.payments(order_id), ["APPROVED"], "the real charge")


@pytest.fixture(scope="module")
def platform(running_platform: RunningPlatform, shop: Storefront) -> Platform:
    return Platform(running_platform, shop)


def _round_trip(platform: Platform, example: MessageExample, payload: dict[str, Any],
                effect: Callable[[], None], unchanged: Callable[[], None]) -> None:
    """Publish; see the effect; publish the same message id again; see it handled as a
    duplicate and nothing change."""
    message_id = uuid.uuid4()
    with allure.step(f"publish {example.routing_key} ({example.description})"):
        allure.attach(str(payload), name="payload", attachment_type=allure.attachment_type.TEXT)
        publish(platform.topology, example.routing_key, payload, message_id=message_id)
        effect()
    with allure.step("redeliver the same message id"):
        duplicates = _counter(platform.running, example.consumer, "duplicate")
        publish(platform.topology, example.routing_key, payload, message_id=message_id)
        _wait(lambda: _counter(platform.running, example.consumer, "duplicate") > duplicates,
              True, "redelivery handled as a duplicate")
        unchanged()


def _order_created(platform: Platform, example: MessageExample) -> None:
    """The reservation is made; the saga then runs on (charge, PAID, committed)."""
    product_id, order_id = platform.product(stock=5), platform.pending_order()
    payload = _with_ids(example.payload, order_id=order_id, product_id=product_id)
    quantity = sum(int(i["quantity"]) for i in payload["items"])

    def effect() -> None:
        _wait(lambda: platform.reservation(order_id) in ("RESERVED", "COMMITTED"), True,
              "reservation")
        assert platform.stock(product_id) == 5 - quantity

    _round_trip(platform, example, payload, effect,
                lambda: (assert_equal(platform.stock(product_id), 5 - quantity, "stock")))


def _order_ended(state: str, stock_after: int) -> Callable[[Platform, MessageExample], None]:
    def scenario(platform: Platform, example: MessageExample) -> None:
        product_id, order_id = platform.product(stock=5), fresh_id()
        platform.reserve(order_id, product_id)
        payload = _with_ids(example.payload, order_id=order_id)

        def effect() -> None:
            _wait(lambda: platform.reservation(order_id), state, "reservation")
            assert platform.stock(product_id) == stock_after

        _round_trip(platform, example, payload, effect,
                    lambda: assert_equal(platform.stock(product_id), stock_after, "stock"))
    return scenario


def _order_expired_product(platform: Platform, example: MessageExample) -> None:
    """Unreserved: tombstoned and the order REJECTED (via inventory.rejected)."""
    order_id = platform.pending_order()
    payload = _with_ids(example.payload, order_id=order_id)

    def effect() -> None:
        _wait(lambda: platform.reservation(order_id), "EXPIRED", "tombstone")
        _wait(lambda: platform.order_status(order_id), "REJECTED", "order status")

    _round_trip(platform, example, payload, effect,
                lambda: assert_equal(platform.order_status(order_id), "REJECTED", "order"))


def _charge(platform: Platform, example: MessageExample) -> None:
    order_id = platform.pending_order()
    payload = _with_ids(example.payload, order_id=order_id)
    outcome = "DECLINED" if example.routing_key == "inventory.expired" or \
        payload.get("payment_token") == "tok_chargeDeclined" else "APPROVED"
    _round_trip(platform, example, payload,
                lambda: _wait(lambda: platform.payments(order_id), [outcome], "payments"),
                lambda: assert_equal(platform.payments(order_id), [outcome], "payments"))


def _order_moved(platform: Platform, example: MessageExample) -> None:
    order_id = platform.pending_order()
    payload = _with_ids(example.payload, order_id=order_id)
    if example.routing_key == "inventory.rejected":
        final, announced = "REJECTED", 0
    else:
        final, announced = ("PAID" if payload["success"] else "PAYMENT_FAILED"), 1

    def effect() -> None:
        _wait(lambda: platform.order_status(order_id), final, "order status")
        assert platform.announced(order_id) == announced

    _round_trip(platform, example, payload, effect,
                lambda: assert_equal(platform.announced(order_id), announced, "announcements"))
    if final == "PAID":
        platform.charge_for_real(order_id)
        assert platform.order_status(order_id) == "PAID"


def assert_equal(seen: Any, expected: Any, what: str) -> None:
    assert seen == expected, f"{what}: {seen!r}, wanted {expected!r}"


SCENARIOS: dict[tuple[str, str], Callable[[Platform, MessageExample], None]] = {
    (PRODUCT, "order.created"): _order_created,
    (PRODUCT, "order.paid"): _order_ended("COMMITTED", 3),
    (PRODUCT, "order.payment_failed"): _order_ended("RELEASED", 5),
    (PRODUCT, "order.expired"): _order_expired_product,
    (PAYMENT, "inventory.reserved"): _charge,
    (PAYMENT, "inventory.expired"): _charge,
    (ORDER, "inventory.rejected"): _order_moved,
    (ORDER, "payment.completed"): _order_moved,
}


def test_every_message_example_travels_through_the_broker_once(pacts_folder: Path,
                                                              platform: Platform) -> None:
    """Read at run time: the consumer tests of this session have just written the pacts."""
    examples = message_examples(pacts_folder)
    assert len(examples) >= 10, f"too few message pacts in {pacts_folder}: {len(examples)}"
    missing = [e.id for e in examples if (e.consumer, e.routing_key) not in SCENARIOS]
    assert not missing, f"message examples without a broker round trip: {missing}"
    failures = []
    for example in examples:
        with allure.step(example.id):
            try:
                SCENARIOS[(example.consumer, example.routing_key)](platform, example)
            except AssertionError as exc:
                failures.append(f"{example.id}: {exc}")
    assert not failures, "\n".join(failures)


# ---- out of order ---------------------------------------------------------------------------
# Every pair of saga events that reach one consumer for one order, delivered in the order
# opposite to the saga's. No case dead-letters, by design: each handler is a guarded
# transition (an order moves only from PENDING, a reservation only from RESERVED, a
# tombstone is written ON CONFLICT DO NOTHING, payment-service records one payment per order
# and re-announces it), so an event that comes too early or too late is applied as a no-op
# or a tombstone, never as a failure. The consumer dead-letters only what it can never apply
# (not JSON, no handler, a bad payload) — shown by the contrast case at the end.
DEAD_LETTER_QUEUES = tuple(f"{q}.dlq" for q in QUEUE.values())


def _dead_letters(platform: Platform, order_id: int) -> list[str]:
    """What RabbitMQ holds in the saga's dead-letter queues about ``order_id``."""
    sources = Sources(platform.topology)
    found = []
    for queue in DEAD_LETTER_QUEUES:
        parked = sources.peek(queue)
        assert parked is not None, f"dead-letter queue {queue} does not exist"
        found += [m.describe() for m in parked if m.order_id == order_id]
    return found


def _handled(platform: Platform, consumer: str, message_id: uuid.UUID) -> bool:
    """The consumer's inbox holds the message (it was applied, in its own transaction)."""
    return bool(db_value(platform.topology, SERVICE_OF[consumer],
                         "SELECT count(*) FROM inbox WHERE event_id = $1", str(message_id)))


def _created(order_id: int, product_id: int) -> dict[str, Any]:
    return {"order_id": order_id, "user_id": 7001, "amount": "39.98", "currency": "EUR",
            "payment_token": "tok_visa",
            "items": [{"product_id": product_id, "quantity": 2, "unit_price": "19.99"}]}


def _charge_facts(order_id: int) -> dict[str, Any]:
    return {"order_id": order_id, "user_id": 7001, "amount": "39.98", "currency": "EUR"}


@dataclass(frozen=True, slots=True)
class OutOfOrder:
    """``first`` overtakes ``then`` on ``consumer``'s queue; the order must end ``expected``."""

    consumer: str
    first: str
    then: str
    payloads: Callable[[int, int], tuple[dict[str, Any], dict[str, Any]]]
    """(order id, product id) -> the payloads of ``first`` and ``then``."""
    order_row: bool
    """Whether order-service holds the order (PENDING) before the events arrive."""
    order: str | None
    reservation: str
    stock: int
    payments: list[str]

    @property
    def id(self) -> str:
        return f"{self.consumer}: {self.first} before {self.then}"


OUT_OF_ORDER = [
    OutOfOrder(PRODUCT, "order.payment_failed", "order.created",
               lambda o, p: ({"order_id": o, "user_id": 7001}, _created(o, p)),
               order_row=False, order=None, reservation="EXPIRED", stock=5, payments=[]),
    OutOfOrder(PRODUCT, "order.expired", "order.created",
               lambda o, p: (_charge_facts(o), _created(o, p)),
               order_row=True, order="REJECTED", reservation="EXPIRED", stock=5, payments=[]),
    OutOfOrder(PRODUCT, "order.paid", "order.created",  # stale: nothing to commit yet
               lambda o, p: ({"order_id": o, "user_id": 7001}, _created(o, p)),
               order_row=True, order="PAID", reservation="COMMITTED", stock=3,
               payments=["APPROVED"]),
    OutOfOrder(PAYMENT, "inventory.expired", "inventory.reserved",
               lambda o, p: (_charge_facts(o), {**_charge_facts(o), "payment_token": "tok_visa"}),
               order_row=True, order="PAYMENT_FAILED", reservation="EXPIRED", stock=5,
               payments=["DECLINED"]),
    OutOfOrder(ORDER, "inventory.rejected", "payment.completed",  # stale approval: ignored
               lambda o, p: ({"order_id": o, "user_id": 7001, "reason": "short"},
                             {"order_id": o, "payment_id": fresh_id(), "success": True,
                              "status": "APPROVED", "amount": "39.98", "currency": "EUR"}),
               order_row=True, order="REJECTED", reservation="none", stock=5, payments=[]),
]


@pytest.mark.parametrize("case", OUT_OF_ORDER, ids=[c.id for c in OUT_OF_ORDER])
def test_events_out_of_order_end_correct_and_are_never_dead_lettered(
        platform: Platform, case: OutOfOrder) -> None:
    product_id = platform.product(stock=5)
    order_id = platform.pending_order() if case.order_row else fresh_id()
    first, then = case.payloads(order_id, product_id)
    with allure.step(f"{case.first} first"):
        early = publish(platform.topology, case.first, first)
        _wait(lambda: _handled(platform, case.consumer, early), True, f"{case.first} applied")
    with allure.step(f"then {case.then}"):
        late = publish(platform.topology, case.then, then)
        _wait(lambda: _handled(platform, case.consumer, late), True, f"{case.then} applied")
    if case.order is not None:
        _wait(lambda: platform.order_status(order_id), case.order, "order status")
    _wait(lambda: platform.reservation(order_id) or "none", case.reservation, "reservation")
    _wait(lambda: platform.payments(order_id), case.payments, "payments")
    assert_equal(platform.stock(product_id), case.stock, "stock")
    assert_equal(_dead_letters(platform, order_id), [], "dead letters")


def test_a_message_the_consumer_can_never_apply_is_dead_lettered(platform: Platform) -> None:
    """The contrast: a payment.completed whose ``success`` is not a boolean is parked in
    order.saga.dlq (seen through RabbitMQ) and the order keeps its state."""
    order_id = platform.pending_order()
    publish(platform.topology, "inventory.rejected",
            {"order_id": order_id, "user_id": 7001, "reason": "short"})
    _wait(lambda: platform.order_status(order_id), "REJECTED", "order status")
    publish(platform.topology, "payment.completed", {
        "order_id": order_id, "payment_id": fresh_id(), "success": "yes", "status": "APPROVED",
        "amount": "39.98", "currency": "EUR"})
    _wait(lambda: len(_dead_letters(platform, order_id)), 1, "dead-lettered")
    assert "order.saga.dlq: payment.completed" in _dead_letters(platform, order_id)[0]
    assert platform.order_status(order_id) == "REJECTED" and platform.announced(order_id) == 0


def test_late_events_never_change_a_terminal_order(platform: Platform,
                                                   running_platform: RunningPlatform) -> None:
    """A PAID order then receives a rejection and a declined payment (stale, out of order):
    it stays PAID, with one approved payment and its reservation committed."""
    from suites.helpers.factories import new_account
    from suites.helpers.http import gateway_client

    client, _ = gateway_client(running_platform.gateway_url)
    with client:
        account = new_account(client)
    product_id = platform.product(stock=5)
    buyer = platform.shop.as_user(account.token)
    order = buyer.place_order([OrderLine(product_id, 2)]).order
    _wait(lambda: buyer.get_order(order.id).status, "PAID", "checkout")
    processed = _counter(platform.running, ORDER, "processed")
    publish(platform.topology, "inventory.rejected",
            {"order_id": order.id, "user_id": account.id, "reason": "stale"})
    publish(platform.topology, "payment.completed", {
        "order_id": order.id, "payment_id": fresh_id(), "success": False, "status": "DECLINED",
        "amount": "39.98", "currency": "EUR"})
    _wait(lambda: _counter(platform.running, ORDER, "processed") >= processed + 2, True,
          "late events handled")
    assert buyer.get_order(order.id).status == "PAID"
    assert [p.status for p in buyer.payments(order_id=order.id)] == ["APPROVED"]
    _wait(lambda: platform.reservation(order.id), "COMMITTED", "reservation")
    assert platform.announced(order.id) == 1
