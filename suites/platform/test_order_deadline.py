"""No order stays PENDING for ever: order-service's reconciler re-drives stuck orders (every
saga step answers an order it already decided by re-emitting its recorded decision) and
ends orders past their deadline with compensation — REJECTED when nothing was reserved,
PAYMENT_FAILED with nothing charged and the stock released, or PAID when the processor had
already charged.

Stuck orders are planted the way they happen: an order row whose event never left, or an
event lost on the broker (a queue purged while its consumer was cut off). The deadline is
reached by moving the order's `created_at` back (a direct write), so the test does not wait
ORDER_DEADLINE_S; re-driving is triggered by setting `next_redrive_at` to now.
"""
from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import allure
import httpx
import orjson
import pytest

from chaos.faults import proxy_down
from suites.helpers import factories
from suites.helpers.platform_db import publish, purge_queue, rows, value
from suites.helpers.waiting import poll_until

pytestmark = [pytest.mark.platform, allure.feature("Order deadlines")]

PAST_DEADLINE = "now() - interval '1 day'"
"""Older than any sane ORDER_DEADLINE_S."""


def _plant_order(running_platform: Any, buyer: factories.Account, product: dict[str, Any],
                 quantity: int, *, created_at: str = "now()") -> int:
    """An order row written straight into order-service's database: no event announces it.
    `next_redrive_at` is far ahead, so the reconciler leaves it alone until the test says."""
    topology = running_platform.topology
    price = Decimal(product["price"])
    order_id = value(
        topology, "order",
        "INSERT INTO orders (user_id, total, currency, idempotency_key, request_hash,"
        f" payment_token, created_at, next_redrive_at) VALUES ($1, $2, 'EUR', $3, '',"
        f" 'tok_visa', {created_at}, now() + interval '1 day') RETURNING id",
        buyer.id, price * quantity, uuid.uuid4().hex)
    rows(topology, "order",
         "INSERT INTO order_items (order_id, line, product_id, quantity, unit_price)"
         " VALUES ($1, 0, $2, $3, $4)", order_id, product["id"], quantity, price)
    return int(order_id)


def _order_created(order_id: int, buyer: factories.Account, product: dict[str, Any],
                   quantity: int) -> bytes:
    price = Decimal(product["price"])
    return orjson.dumps({
        "order_id": order_id, "user_id": buyer.id,
        "items": [{"product_id": product["id"], "quantity": quantity,
                   "unit_price": f"{price:.2f}"}],
        "amount": f"{price * quantity:.2f}", "currency": "EUR", "payment_token": "tok_visa"})


def _publish_order_created(running_platform: Any, body: bytes) -> None:
    publish(running_platform.topology, "order.created", body, str(uuid.uuid4()))


def _ledger(running_platform: Any, order_id: int) -> list[str]:
    return [r["outcome"] for r in rows(running_platform.topology, "payment",
                                       "SELECT outcome FROM processor_ledger WHERE order_id = $1",
                                       order_id)]


def _reservation(running_platform: Any, order_id: int) -> str | None:
    return value(running_platform.topology, "product",  # type: ignore[no-any-return]
                 "SELECT state FROM reservations WHERE order_id = $1", order_id)


def _units(running_platform: Any, product_id: int) -> tuple[int, int, int]:
    (row,) = rows(running_platform.topology, "product",
                  "SELECT stock, reserved, sold FROM products WHERE id = $1", product_id)
    return row["stock"], row["reserved"], row["sold"]


def _transitions(running_platform: Any, order_id: int) -> list[tuple[str | None, str]]:
    return [(r["from_status"], r["to_status"]) for r in rows(
        running_platform.topology, "order",
        "SELECT from_status, to_status FROM order_transitions WHERE order_id = $1 ORDER BY id",
        order_id)]


def _wait_ready(running_platform: Any, service: str) -> None:
    def ready() -> int:
        try:
            return httpx.get(f"{running_platform.service_urls[service]}/health/ready",
                             timeout=3).status_code
        except httpx.HTTPError:
            return 0
    assert poll_until(ready, lambda s: s == 200, timeout=20) == 200, f"{service} not ready"


def _wait_status(api: httpx.Client, buyer: factories.Account, order_id: int) -> str:
    return str(factories.wait_for_order(api, buyer, order_id, timeout=30)["status"])


def test_an_order_past_its_deadline_before_any_reservation_is_rejected_uncharged(
        api: httpx.Client, running_platform: Any, buyer: factories.Account,
        new_product: Any) -> None:
    product = new_product(stock=5)
    order_id = _plant_order(running_platform, buyer, product, 2, created_at=PAST_DEADLINE)

    assert _wait_status(api, buyer, order_id) == "REJECTED"
    assert _ledger(running_platform, order_id) == [], "a REJECTED order has no processor row"
    assert _reservation(running_platform, order_id) == "EXPIRED"

    # The order.created that was stuck somewhere arrives after all: nothing is reserved.
    _publish_order_created(running_platform, _order_created(order_id, buyer, product, 2))
    poll_until(lambda: _units(running_platform, product["id"]), lambda u: u != (5, 0, 0),
               timeout=3)
    assert _units(running_platform, product["id"]) == (5, 0, 0)
    assert _reservation(running_platform, order_id) == "EXPIRED"
    assert _ledger(running_platform, order_id) == []
    assert _transitions(running_platform, order_id) == [(None, "PENDING"), ("PENDING", "REJECTED")]


def test_an_expired_order_holding_stock_releases_it_and_is_never_charged(
        api: httpx.Client, running_platform: Any, buyer: factories.Account,
        new_product: Any, mesh: Any) -> None:
    """inventory.reserved is lost (purged while payment-service was cut off the broker)."""
    product = new_product(stock=5)
    order_id = _plant_order(running_platform, buyer, product, 3)
    with proxy_down(mesh, running_platform.proxy_name("payment", "broker")):
        _publish_order_created(running_platform, _order_created(order_id, buyer, product, 3))
        poll_until(lambda: _reservation(running_platform, order_id),
                   lambda s: s == "RESERVED", timeout=10)
        assert _units(running_platform, product["id"]) == (2, 3, 0)
        purge_queue(running_platform.topology, "payment.saga")
    _wait_ready(running_platform, "payment")

    rows(running_platform.topology, "order",
         f"UPDATE orders SET created_at = {PAST_DEADLINE} WHERE id = $1", order_id)
    assert _wait_status(api, buyer, order_id) == "PAYMENT_FAILED"
    assert _ledger(running_platform, order_id) == ["DECLINED"]
    assert poll_until(lambda: _units(running_platform, product["id"]),
                      lambda u: u == (5, 0, 0), timeout=10) == (5, 0, 0)
    assert _reservation(running_platform, order_id) == "RELEASED"


@pytest.mark.parametrize("push", ["redrive", "deadline"])
def test_a_lost_payment_outcome_is_announced_again_and_the_order_ends_paid(
        api: httpx.Client, running_platform: Any, buyer: factories.Account,
        new_product: Any, mesh: Any, push: str) -> None:
    """payment.completed is lost (purged while order-service was cut off the broker); the
    re-driven saga or the expiry gets payment-service's recorded decision again."""
    product = new_product(stock=4)
    order_id = _plant_order(running_platform, buyer, product, 1)
    with proxy_down(mesh, running_platform.proxy_name("order", "broker")):
        _publish_order_created(running_platform, _order_created(order_id, buyer, product, 1))
        assert poll_until(lambda: _ledger(running_platform, order_id), bool,
                          timeout=10) == ["APPROVED"]
        poll_until(lambda: value(running_platform.topology, "payment",
                                 "SELECT count(*) FROM outbox WHERE published_at IS NULL"),
                   lambda pending: pending == 0, timeout=10)
        purge_queue(running_platform.topology, "order.saga")
    _wait_ready(running_platform, "order")
    assert factories.get_order(api, buyer, order_id)["status"] == "PENDING"

    change = ("next_redrive_at = now()" if push == "redrive"
              else f"created_at = {PAST_DEADLINE}")
    rows(running_platform.topology, "order", f"UPDATE orders SET {change} WHERE id = $1",
         order_id)
    assert _wait_status(api, buyer, order_id) == "PAID"
    assert _ledger(running_platform, order_id) == ["APPROVED"], "charged once, never again"
    assert poll_until(lambda: _units(running_platform, product["id"]),
                      lambda u: u == (3, 0, 1), timeout=10) == (3, 0, 1)
    assert _reservation(running_platform, order_id) == "COMMITTED"
    assert _transitions(running_platform, order_id) == [(None, "PENDING"), ("PENDING", "PAID")]
