"""order-service's side: each message built by its real payload builders (looked up on the
module at call time, so a test can serve a patched publisher)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from order_service import events

from contracts.messages import Produced


def _order_created(params: dict[str, Any]) -> Produced:
    unit_price, quantity = Decimal(str(params["unit_price"])), int(params["quantity"])
    line = {"product_id": int(params["product_id"]), "quantity": quantity,
            "unit_price": unit_price}
    return events.ORDER_CREATED, events.order_created(int(params["order_id"]), int(params["user_id"]), [line],
                                        unit_price * quantity, "EUR",
                                        str(params.get("payment_token", "tok_visa")))


def _paid(params: dict[str, Any]) -> Produced:
    return events.payment_outcome(int(params["order_id"]), int(params["user_id"]), True)


def _payment_failed(params: dict[str, Any]) -> Produced:
    return events.payment_outcome(int(params["order_id"]), int(params["user_id"]), False)


def _expired(params: dict[str, Any]) -> Produced:
    return events.ORDER_EXPIRED, events.order_expired(
        int(params["order_id"]), int(params["user_id"]), Decimal(str(params["amount"])), "EUR")


PRODUCERS = {
    "an order.expired event": _expired,
    "an order.created event": _order_created,
    "an order.paid event": _paid,
    "an order.payment_failed event": _payment_failed,
}
