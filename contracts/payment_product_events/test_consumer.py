"""payment-service's charge step for inventory.reserved, fed the pact examples for real
(processor simulator, payments table, emitted payment.completed)."""

from __future__ import annotations

import allure
from pact import match

from contracts.fixtures import PactFactory
from contracts.messages import SagaDatabases, metadata
from contracts.pactkit import CURRENCY, MONEY, PAYMENT, PRODUCT

pytestmark = [allure.epic("contracts"),
              allure.feature("payment-service <- product-service (events)")]

RESERVED = "stock for order {order_id} of user {user_id} was reserved ({amount}, {payment_token})"


def _body(order_id: int, token: str) -> dict[str, object]:
    return {"order_id": match.int(order_id), "user_id": match.int(7001),
            "amount": match.regex("39.98", regex=MONEY),
            "currency": match.regex("EUR", regex=CURRENCY),
            "payment_token": match.regex(token, regex=r"^tok_\w+$")}


def _charge(pact_factory: PactFactory, saga_dbs: SagaDatabases, description: str,
            order_id: int, token: str) -> tuple[str, dict[str, object]]:
    pact = pact_factory(PAYMENT, PRODUCT)
    (pact.upon_receiving(description, "Async")
         .given(RESERVED, {"order_id": order_id, "user_id": 7001, "amount": "39.98",
                           "payment_token": token})
         .with_body(_body(order_id, token), content_type="application/json")
         .with_metadata(metadata("inventory.reserved", order_id)))
    pact.verify(saga_dbs.handler("payment"), "Async")
    status = saga_dbs.fetchval("payment", "SELECT status FROM payments WHERE order_id = $1",
                               order_id)
    emitted = [p for t, p in saga_dbs.outbox("payment")
               if t == "payment.completed" and p.get("order_id") == order_id]
    assert len(emitted) == 1
    return str(status), emitted[0]


def test_inventory_reserved_charges_a_good_card(pact_factory: PactFactory,
                                                saga_dbs: SagaDatabases) -> None:
    status, emitted = _charge(pact_factory, saga_dbs,
                              "an inventory.reserved event for a good card", 9201, "tok_visa")
    assert status == "APPROVED" and emitted["success"] is True


def test_inventory_reserved_records_a_declined_card(pact_factory: PactFactory,
                                                    saga_dbs: SagaDatabases) -> None:
    status, emitted = _charge(pact_factory, saga_dbs,
                              "an inventory.reserved event for a declined card", 9202,
                              "tok_chargeDeclined")
    assert status == "DECLINED" and emitted["success"] is False


EXPIRED = "order {order_id} of user {user_id} expired holding stock ({amount})"


def test_inventory_expired_closes_the_charge(pact_factory: PactFactory,
                                            saga_dbs: SagaDatabases) -> None:
    """Compensation: with no charge yet the processor key is closed DECLINED, so the order
    ends PAYMENT_FAILED and no charge can happen after the expiry."""
    pact = pact_factory(PAYMENT, PRODUCT)
    (pact.upon_receiving("an inventory.expired event", "Async")
         .given(EXPIRED, {"order_id": 9203, "user_id": 7001, "amount": "39.98"})
         .with_body({"order_id": match.int(9203), "user_id": match.int(7001),
                     "amount": match.regex("39.98", regex=MONEY),
                     "currency": match.regex("EUR", regex=CURRENCY)},
                    content_type="application/json")
         .with_metadata(metadata("inventory.expired", 9203)))
    pact.verify(saga_dbs.handler("payment"), "Async")
    assert saga_dbs.fetchval("payment", "SELECT status FROM payments WHERE order_id = 9203") \
        == "DECLINED"
    emitted = [p for t, p in saga_dbs.outbox("payment")
               if t == "payment.completed" and p.get("order_id") == 9203]
    assert len(emitted) == 1 and emitted[0]["success"] is False
