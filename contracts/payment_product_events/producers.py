"""product-service's side: inventory.reserved built by its real payload builder."""

from __future__ import annotations

from typing import Any

from product_service import events

from contracts.messages import Produced


def _reserved(params: dict[str, Any]) -> Produced:
    order_created = {"order_id": int(params["order_id"]), "user_id": int(params["user_id"]),
                     "amount": str(params["amount"]), "currency": "EUR",
                     "payment_token": str(params["payment_token"]), "items": []}
    return events.INVENTORY_RESERVED, events.inventory_reserved(order_created)


def _expired(params: dict[str, Any]) -> Produced:
    """product-service builds this payload inline in ``on_order_expired`` (the order.expired
    keys it passes on); mirrored here until it has a builder function of its own."""
    order_expired = {"order_id": int(params["order_id"]), "user_id": int(params["user_id"]),
                     "amount": str(params["amount"]), "currency": "EUR"}
    return events.INVENTORY_EXPIRED, {key: order_expired[key]
                                      for key in ("order_id", "user_id", "amount", "currency")}


PRODUCERS = {
    "an inventory.expired event": _expired,
    "an inventory.reserved event for a good card": _reserved,
    "an inventory.reserved event for a declined card": _reserved,
}
