"""order-service's handler for payment.completed, fed the pact examples for real: the order
ends PAID or PAYMENT_FAILED and announces it (order.paid / order.payment_failed)."""

from __future__ import annotations

import allure
import pytest
from pact import match

from contracts.fixtures import PactFactory
from contracts.messages import SagaDatabases, metadata, seed_order
from contracts.pactkit import CURRENCY, MONEY, ORDER, PAYMENT

pytestmark = [allure.epic("contracts"),
              allure.feature("order-service <- payment-service (events)")]

CHARGED = "order {order_id} was charged {amount} with outcome {outcome}"


@pytest.mark.parametrize(("outcome", "order_id", "status", "announced"), [
    ("APPROVED", 9401, "PAID", "order.paid"),
    ("DECLINED", 9402, "PAYMENT_FAILED", "order.payment_failed"),
], ids=["approved", "declined"])
def test_payment_completed_ends_the_order(pact_factory: PactFactory, saga_dbs: SagaDatabases,
                                          outcome: str, order_id: int, status: str,
                                          announced: str) -> None:
    seed_order(saga_dbs, order_id, 7001)
    word = "an approved" if outcome == "APPROVED" else "a declined"
    pact = pact_factory(ORDER, PAYMENT)
    (pact.upon_receiving(f"a payment.completed event for {word} charge", "Async")
         .given(CHARGED, {"order_id": order_id, "amount": "39.98", "outcome": outcome,
                          "payment_id": 1})
         .with_body({"order_id": match.int(order_id), "payment_id": match.int(1),
                     "success": outcome == "APPROVED",
                     "status": outcome,
                     "amount": match.regex("39.98", regex=MONEY),
                     "currency": match.regex("EUR", regex=CURRENCY)},
                    content_type="application/json")
         .with_metadata(metadata("payment.completed", order_id)))
    pact.verify(saga_dbs.handler("order"), "Async")
    assert saga_dbs.fetchval("order", "SELECT status FROM orders WHERE id = $1",
                             order_id) == status
    assert [t for t, p in saga_dbs.outbox("order") if p.get("order_id") == order_id] == [announced]
