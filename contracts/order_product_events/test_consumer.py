"""order-service's handler for inventory.rejected, fed the pact example for real."""

from __future__ import annotations

import allure
from pact import match

from contracts.fixtures import PactFactory
from contracts.messages import SagaDatabases, metadata, seed_order
from contracts.pactkit import ORDER, PRODUCT

pytestmark = [allure.epic("contracts"),
              allure.feature("order-service <- product-service (events)")]


def test_inventory_rejected_ends_the_order_rejected(pact_factory: PactFactory,
                                                    saga_dbs: SagaDatabases) -> None:
    seed_order(saga_dbs, 9301, 7001)
    pact = pact_factory(ORDER, PRODUCT)
    (pact.upon_receiving("an inventory.rejected event", "Async")
         .given("product {product_id} is short for order {order_id} of user {user_id}",
                {"order_id": 9301, "user_id": 7001, "product_id": 4201})
         .with_body({"order_id": match.int(9301), "user_id": match.int(7001),
                     "reason": match.str("insufficient stock for product 4201")},
                    content_type="application/json")
         .with_metadata(metadata("inventory.rejected", 9301)))
    pact.verify(saga_dbs.handler("order"), "Async")
    assert saga_dbs.fetchval("order", "SELECT status FROM orders WHERE id = 9301") == "REJECTED"
