"""product-service's side: inventory.reserved from its real payload builder; inventory.expired
(built inline in its handler) from its real handler, run on a throw-away database."""

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
    """What product-service's ``on_order_expired`` emits for an order holding stock: the
    order is reserved through its real order.created handler, then order.expired (from
    order-service's builder) is delivered and the outbox row read back."""
    from order_service.events import order_expired
    from svckit.consumer import Event

    from chaos.topology import load_topology
    from contracts.messages import saga_databases, seed_product

    order_id, user_id = int(params["order_id"]), int(params["user_id"])
    amount = Decimal(str(params["amount"]))
    with saga_databases(load_topology(), ("product",), tag="_producer") as dbs:
        seed_product(dbs, 4299, stock=5)
        dbs.deliver("product", Event(f"reserve-{order_id}", "order.created", {
            "order_id": order_id, "user_id": user_id, "amount": f"{amount:.2f}",
            "currency": "EUR", "payment_token": "tok_visa",
            "items": [{"product_id": 4299, "quantity": 1, "unit_price": f"{amount:.2f}"}]}, 1))
        dbs.deliver("product", Event(f"expire-{order_id}", "order.expired",
                                     order_expired(order_id, user_id, amount, "EUR"), 1))
        emitted = [p for t, p in dbs.outbox("product") if t == events.INVENTORY_EXPIRED]
    if len(emitted) != 1:
        raise RuntimeError(f"product-service emitted {len(emitted)} inventory.expired events")
    return events.INVENTORY_EXPIRED, emitted[0]


PRODUCERS = {
    "an inventory.expired event": _expired,
    "an inventory.reserved event for a good card": _reserved,
    "an inventory.reserved event for a declined card": _reserved,
}
