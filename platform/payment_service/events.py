"""payment-service's part of the saga: charge reserved orders, once each."""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import Any

import asyncpg
from svckit.consumer import Consumer, Event
from svckit.outbox import add_event
from svckit.settings import ServiceSettings
from svckit.topology import SAGA_QUEUES

from payment_service.processor import charge

log = logging.getLogger("payment_service.events")


PAYMENT_COMPLETED = "payment.completed"


def payment_completed(order_id: int, payment_id: int, outcome: str, amount: Decimal,
                      currency: str) -> dict[str, Any]:
    return {"order_id": order_id, "payment_id": payment_id, "success": outcome == "APPROVED",
            "status": outcome, "amount": f"{amount:.2f}", "currency": currency}


def make_handler(settings: ServiceSettings):  # type: ignore[no-untyped-def]
    async def on_inventory_reserved(conn: asyncpg.Connection, event: Event) -> None:
        data = event.payload
        order_id = int(data["order_id"])
        # Serialise attempts for one order; the unique constraint is the final guard.
        await conn.execute("SELECT pg_advisory_xact_lock($1)", order_id)
        if await conn.fetchval("SELECT 1 FROM payments WHERE order_id = $1", order_id):
            log.info("order %s already charged; not charging again", order_id)
            return
        amount = Decimal(data["amount"])
        outcome = await charge(data["payment_token"], amount, data["currency"],
                               latency_ms=settings.processor_latency_ms)
        row = await conn.fetchrow(
            "INSERT INTO payments (order_id, user_id, amount, currency, status)"
            " VALUES ($1, $2, $3, $4, $5) RETURNING id",
            order_id, int(data["user_id"]), amount, data["currency"], outcome)
        await add_event(conn, PAYMENT_COMPLETED, payment_completed(
            order_id, row["id"], outcome, amount, data["currency"]))
        log.info("order %s charged: %s", order_id, outcome)

    return on_inventory_reserved


def consumers(pool: asyncpg.Pool, settings: ServiceSettings) -> list[Consumer]:
    return [Consumer(SAGA_QUEUES["payment"], {"inventory.reserved": make_handler(settings)},
                     pool, settings)]
