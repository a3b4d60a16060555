"""product-service's handlers for order-service's events, fed the pact examples for real.

Each example goes through ``Consumer.deliver`` (inbox + handler in one transaction) on a
fresh product database; the effect (reservation state, stock, emitted events) is asserted.
"""

from __future__ import annotations

import allure
from pact import match

from contracts.fixtures import PactFactory
from contracts.messages import SagaDatabases, metadata, seed_product
from contracts.pactkit import CURRENCY, MONEY, ORDER, PRODUCT

pytestmark = [allure.epic("contracts"),
              allure.feature("product-service <- order-service (events)")]

PLACED = "order {order_id} was placed by user {user_id} for {quantity} of product {product_id}"


def order_created_body(order_id: int, product_id: int, quantity: int = 2) -> dict[str, object]:
    return {
        "order_id": match.int(order_id), "user_id": match.int(7001),
        "items": match.each_like({"product_id": match.int(product_id),
                                  "quantity": match.int(quantity),
                                  "unit_price": match.regex("19.99", regex=MONEY)}, min=1),
        "amount": match.regex("39.98", regex=MONEY),
        "currency": match.regex("EUR", regex=CURRENCY),
        "payment_token": match.regex("tok_visa", regex=r"^tok_\w+$"),
    }


def _reservation(saga_dbs: SagaDatabases, order_id: int) -> str | None:
    return saga_dbs.fetchval("product", "SELECT state FROM reservations WHERE order_id = $1",
                             order_id)


def _stock(saga_dbs: SagaDatabases, product_id: int) -> int:
    return int(saga_dbs.fetchval("product", "SELECT stock FROM products WHERE id = $1",
                                 product_id))


def _reserve(saga_dbs: SagaDatabases, order_id: int, product_id: int) -> None:
    """Precondition: order ``order_id`` holds a reservation of 2 units."""
    from svckit.consumer import Event

    seed_product(saga_dbs, product_id, stock=5)
    saga_dbs.deliver("product", Event(f"setup-{order_id}", "order.created", {
        "order_id": order_id, "user_id": 7001,
        "items": [{"product_id": product_id, "quantity": 2, "unit_price": "19.99"}],
        "amount": "39.98", "currency": "EUR", "payment_token": "tok_visa"}, 1))
    assert _reservation(saga_dbs, order_id) == "RESERVED"


def test_order_created_reserves_stock(pact_factory: PactFactory,
                                      saga_dbs: SagaDatabases) -> None:
    seed_product(saga_dbs, 4211, stock=5)
    pact = pact_factory(PRODUCT, ORDER)
    (pact.upon_receiving("an order.created event", "Async")
         .given(PLACED, {"order_id": 9101, "user_id": 7001, "quantity": 2, "product_id": 4211,
                         "unit_price": "19.99"})
         .with_body(order_created_body(9101, 4211), content_type="application/json")
         .with_metadata(metadata("order.created", 9101)))
    pact.verify(saga_dbs.handler("product"), "Async")
    assert _reservation(saga_dbs, 9101) == "RESERVED"
    assert _stock(saga_dbs, 4211) == 3
    emitted = [p for t, p in saga_dbs.outbox("product") if p.get("order_id") == 9101]
    assert emitted and emitted[-1]["payment_token"] == "tok_visa"


def test_order_paid_commits_the_reservation(pact_factory: PactFactory,
                                            saga_dbs: SagaDatabases) -> None:
    _reserve(saga_dbs, 9102, 4212)
    pact = pact_factory(PRODUCT, ORDER)
    (pact.upon_receiving("an order.paid event", "Async")
         .given("order {order_id} of user {user_id} was paid", {"order_id": 9102,
                                                                "user_id": 7001})
         .with_body({"order_id": match.int(9102), "user_id": match.int(7001)},
                    content_type="application/json")
         .with_metadata(metadata("order.paid", 9102)))
    pact.verify(saga_dbs.handler("product"), "Async")
    assert _reservation(saga_dbs, 9102) == "COMMITTED"
    assert _stock(saga_dbs, 4212) == 3


def test_order_payment_failed_releases_the_reservation(pact_factory: PactFactory,
                                                       saga_dbs: SagaDatabases) -> None:
    _reserve(saga_dbs, 9103, 4213)
    pact = pact_factory(PRODUCT, ORDER)
    (pact.upon_receiving("an order.payment_failed event", "Async")
         .given("order {order_id} of user {user_id} failed to pay", {"order_id": 9103,
                                                                     "user_id": 7001})
         .with_body({"order_id": match.int(9103), "user_id": match.int(7001)},
                    content_type="application/json")
         .with_metadata(metadata("order.payment_failed", 9103)))
    pact.verify(saga_dbs.handler("product"), "Async")
    assert _reservation(saga_dbs, 9103) == "RELEASED"
    assert _stock(saga_dbs, 4213) == 5


EXPIRED = "order {order_id} of user {user_id} passed its deadline ({amount})"


def order_expired_body(order_id: int) -> dict[str, object]:
    return {"order_id": match.int(order_id), "user_id": match.int(7001),
            "amount": match.regex("39.98", regex=MONEY),
            "currency": match.regex("EUR", regex=CURRENCY)}


def test_order_expired_tombstones_an_unreserved_order(pact_factory: PactFactory,
                                                      saga_dbs: SagaDatabases) -> None:
    """Compensation: an order that expired before its reservation is rejected (nobody was
    charged) and takes nothing later."""
    from svckit.consumer import Event

    pact = pact_factory(PRODUCT, ORDER)
    (pact.upon_receiving("an order.expired event", "Async")
         .given(EXPIRED, {"order_id": 9104, "user_id": 7001, "amount": "39.98"})
         .with_body(order_expired_body(9104), content_type="application/json")
         .with_metadata(metadata("order.expired", 9104)))
    pact.verify(saga_dbs.handler("product"), "Async")
    assert _reservation(saga_dbs, 9104) == "EXPIRED"
    assert [t for t, p in saga_dbs.outbox("product") if p.get("order_id") == 9104] \
        == ["inventory.rejected"]
    seed_product(saga_dbs, 4214, stock=5)
    saga_dbs.deliver("product", Event("late-9104", "order.created", {
        "order_id": 9104, "user_id": 7001,
        "items": [{"product_id": 4214, "quantity": 2, "unit_price": "19.99"}],
        "amount": "39.98", "currency": "EUR", "payment_token": "tok_visa"}, 1))
    assert _stock(saga_dbs, 4214) == 5 and _reservation(saga_dbs, 9104) == "EXPIRED"
