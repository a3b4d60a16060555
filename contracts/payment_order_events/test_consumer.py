"""payment-service's expiry step for order.expired (compensation), fed the pact example for
real: with no charge yet the processor key is closed DECLINED, so the order ends
PAYMENT_FAILED and a late charge cannot happen."""

from __future__ import annotations

import allure
from pact import match

from contracts.fixtures import PactFactory
from contracts.messages import SagaDatabases, metadata
from contracts.pactkit import CURRENCY, MONEY, ORDER, PAYMENT

pytestmark = [allure.epic("contracts"),
              allure.feature("payment-service <- order-service (events)")]

EXPIRED = "order {order_id} of user {user_id} passed its deadline ({amount})"


def test_order_expired_closes_the_charge(pact_factory: PactFactory,
                                         saga_dbs: SagaDatabases) -> None:
    pact = pact_factory(PAYMENT, ORDER)
    (pact.upon_receiving("an order.expired event", "Async")
         .given(EXPIRED, {"order_id": 9501, "user_id": 7001, "amount": "39.98"})
         .with_body({"order_id": match.int(9501), "user_id": match.int(7001),
                     "amount": match.regex("39.98", regex=MONEY),
                     "currency": match.regex("EUR", regex=CURRENCY)},
                    content_type="application/json")
         .with_metadata(metadata("order.expired", 9501)))
    pact.verify(saga_dbs.handler("payment"), "Async")
    assert saga_dbs.fetchval("payment", "SELECT status FROM payments WHERE order_id = 9501") \
        == "DECLINED"
    emitted = [p for t, p in saga_dbs.outbox("payment")
               if t == "payment.completed" and p.get("order_id") == 9501]
    assert len(emitted) == 1 and emitted[0]["success"] is False
