"""order-service's part of the saga: move PENDING orders to their terminal state.

Only a PENDING order changes (`WHERE status = 'PENDING'`), so terminal states never change
and a redelivered or late event is harmless. Payment outcomes are announced to
product-service (commit or release the reservation) through the outbox.
"""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import Any

import asyncpg
from svckit.consumer import Consumer, Event
from svckit.outbox import add_event
from svckit.settings import ServiceSettings
from svckit.topology import SAGA_QUEUES

log = logging.getLogger("order_service.events")

ORDER_CREATED = "order.created"
ORDER_PAID = "order.paid"
ORDER_PAYMENT_FAILED = "order.payment_failed"
ORDER_EXPIRED = "order.expired"


def order_created(order_id: int, user_id: int, lines: list[dict[str, Any]], amount: Decimal,
                  currency: str, payment_token: str) -> dict[str, Any]:
    """Payload of `order.created`; lines are `{product_id, quantity, unit_price: Decimal}`."""
    return {
        "order_id": order_id,
        "user_id": user_id,
        "items": [{"product_id": line["product_id"], "quantity": line["quantity"],
                   "unit_price": f"{line['unit_price']:.2f}"} for line in lines],
        "amount": f"{amount:.2f}",
        "currency": currency,
        "payment_token": payment_token,
    }


def order_expired(order_id: int, user_id: int, amount: Decimal, currency: str
                  ) -> dict[str, Any]:
    """Payload of `order.expired` (to product-service, which rejects an unreserved order or
    passes the expiry on to payment-service as `inventory.expired`)."""
    return {"order_id": order_id, "user_id": user_id, "amount": f"{amount:.2f}",
            "currency": currency}


def payment_outcome(order_id: int, user_id: int, success: bool) -> tuple[str, dict[str, Any]]:
    """Event type and payload announcing a payment's outcome to product-service."""
    event_type = ORDER_PAID if success else ORDER_PAYMENT_FAILED
    return event_type, {"order_id": order_id, "user_id": user_id}


async def _finish(conn: asyncpg.Connection, order_id: int, status: str) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "UPDATE orders SET status = $2, updated_at = now() WHERE id = $1 AND status = 'PENDING'"
        " RETURNING id, user_id", order_id, status)


async def on_inventory_rejected(conn: asyncpg.Connection, event: Event) -> None:
    order_id = int(event.payload["order_id"])
    if await _finish(conn, order_id, "REJECTED"):
        log.info("order %s REJECTED (%s)", order_id, event.payload.get("reason"))


async def on_payment_completed(conn: asyncpg.Connection, event: Event) -> None:
    order_id = int(event.payload["order_id"])
    success = event.payload["success"]
    if not isinstance(success, bool):
        raise ValueError("payment.completed.success must be a boolean")
    row = await _finish(conn, order_id, "PAID" if success else "PAYMENT_FAILED")
    if row is None:
        return
    await add_event(conn, *payment_outcome(order_id, row["user_id"], success))
    log.info("order %s %s", order_id, "PAID" if success else "PAYMENT_FAILED")


def consumers(pool: asyncpg.Pool, settings: ServiceSettings) -> list[Consumer]:
    return [Consumer(SAGA_QUEUES["order"], {
        "inventory.rejected": on_inventory_rejected,
        "payment.completed": on_payment_completed,
    }, pool, settings)]
