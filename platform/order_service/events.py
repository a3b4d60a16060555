"""order-service's part of the saga: move PENDING orders to their terminal state.

Only a PENDING order changes (`WHERE status = 'PENDING'`), so terminal states never change
and a redelivered or late event is harmless. Payment outcomes are announced to
product-service (commit or release the reservation) through the outbox.
"""

from __future__ import annotations

import logging

import asyncpg

from svckit.consumer import Consumer, Event
from svckit.outbox import add_event
from svckit.settings import ServiceSettings
from svckit.topology import SAGA_QUEUES

log = logging.getLogger("order_service.events")


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
    await add_event(conn, "order.paid" if success else "order.payment_failed",
                    {"order_id": order_id, "user_id": row["user_id"]})
    log.info("order %s %s", order_id, "PAID" if success else "PAYMENT_FAILED")


def consumers(pool: asyncpg.Pool, settings: ServiceSettings) -> list[Consumer]:
    return [Consumer(SAGA_QUEUES["order"], {
        "inventory.rejected": on_inventory_rejected,
        "payment.completed": on_payment_completed,
    }, pool, settings)]
