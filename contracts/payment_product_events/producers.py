"""product-service's side: inventory.reserved and inventory.expired from its real payload
builders (``product_service.events``)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from product_service import events

from contracts.messages import Produced


def _reserved(params: dict[str, Any]) -> Produced:
    order_created = {"order_id": int(params["order_id"]), "user_id": int(params["user_id"]),
                     "amount": str(params["amount"]), "currency": "EUR",
                     "payment_token": str(params["payment_token"]), "items": []}
    return events.INVENTORY_RESERVED, events.inventory_reserved(order_created)


def _expired(params: dict[str, Any]) -> Produced:
    """product-service's builder applied to the order.expired it receives (built by
    order-service's own builder): the pass-through an order holding stock emits."""
    from order_service.events import order_expired

    expired = order_expired(int(params["order_id"]), int(params["user_id"]),
                            Decimal(str(params["amount"])), "EUR")
    return events.INVENTORY_EXPIRED, events.inventory_expired(expired)


PRODUCERS = {
    "an inventory.expired event": _expired,
    "an inventory.reserved event for a good card": _reserved,
    "an inventory.reserved event for a declined card": _reserved,
}
