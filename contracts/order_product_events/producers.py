"""product-service's side: inventory.rejected built by its real payload builder."""

from __future__ import annotations

from typing import Any

from product_service import events

from contracts.messages import Produced


def _rejected(params: dict[str, Any]) -> Produced:
    return events.INVENTORY_REJECTED, events.inventory_rejected(
        int(params["order_id"]), int(params["user_id"]),
        f"insufficient stock for product {params['product_id']}")


PRODUCERS = {"an inventory.rejected event": _rejected}
