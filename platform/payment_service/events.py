"""payment-service's part of the saga: charge reserved orders once each, answer expiries.

The charge is an external call, so it runs before the transaction (svckit `TwoPhase`):
the processor is asked first (idempotency key `order-<id>`: a retry after a failed commit
gets the recorded outcome, no second charge), then one transaction records the payment,
its `payment.completed` event and the inbox row. A payment already recorded for the order
is answered by re-emitting its `payment.completed` (a re-driven saga gets the decision
again instead of silence).

`inventory.expired` (order-service's deadline, passed on by product-service for an order that
holds stock) closes the order's key at the processor: with no charge yet, a DECLINED one is
recorded, so no charge can happen after the expiry and the order ends PAYMENT_FAILED; if the
processor had already approved it, the order ends PAID (never a charge for an order that did
not end PAID). An order that expired before anything was reserved never reaches
payment-service (product-service rejects it), so a REJECTED order has no ledger row.
"""

from __future__ import annotations

import asyncio
import logging
from decimal import Decimal
from typing import Any

import asyncpg
from svckit.consumer import Consumer, Event, TwoPhase
from svckit.outbox import add_event
from svckit.settings import ServiceSettings
from svckit.topology import SAGA_QUEUES

from payment_service.processor import Outcome, Processor, idempotency_key

log = logging.getLogger("payment_service.events")


PAYMENT_COMPLETED = "payment.completed"


def payment_completed(order_id: int, payment_id: int, outcome: str, amount: Decimal,
                      currency: str) -> dict[str, Any]:
    return {"order_id": order_id, "payment_id": payment_id, "success": outcome == "APPROVED",
            "status": outcome, "amount": f"{amount:.2f}", "currency": currency}


async def record_outcome(conn: asyncpg.Connection, event: Event, outcome: Outcome) -> None:
    """In the inbox transaction: record the processor's outcome as the order's payment and
    announce it, or re-announce the payment already recorded."""
    data = event.payload
    order_id = int(data["order_id"])
    amount = Decimal(data["amount"])
    # The unique order_id decides: a concurrent delivery for the same order waits on the
    # index until this transaction ends, then finds the row and re-announces it.
    payment_id = await conn.fetchval(
        "INSERT INTO payments (order_id, user_id, amount, currency, status)"
        " VALUES ($1, $2, $3, $4, $5) ON CONFLICT (order_id) DO NOTHING RETURNING id",
        order_id, int(data["user_id"]), amount, data["currency"], outcome)
    if payment_id is not None:
        recorded = (payment_id, outcome, amount, data["currency"])
        log.info("order %s %s: %s", order_id, event.event_type, outcome)
    else:
        row = await conn.fetchrow(
            "SELECT id, status, amount, currency FROM payments WHERE order_id = $1", order_id)
        recorded = (row["id"], row["status"], row["amount"], row["currency"])
        log.info("order %s already decided (%s); re-announcing", order_id, row["status"])
    await add_event(conn, PAYMENT_COMPLETED, payment_completed(order_id, *recorded))


def charge_step(processor: Processor) -> TwoPhase:
    """`inventory.reserved`: charge at the processor (outside any transaction), then record."""
    async def prepare(event: Event) -> Outcome:
        data = event.payload
        order_id = int(data["order_id"])
        return await processor.charge(idempotency_key(order_id), order_id,
                                      str(data["payment_token"]), Decimal(data["amount"]),
                                      str(data["currency"]))

    return TwoPhase(prepare, record_outcome)


def expiry_step(processor: Processor) -> TwoPhase:
    """`inventory.expired`: close the key at the processor (no charge after it), then record."""
    async def prepare(event: Event) -> Outcome:
        data = event.payload
        order_id = int(data["order_id"])
        return await processor.void(idempotency_key(order_id), order_id,
                                    Decimal(data["amount"]), str(data["currency"]))

    return TwoPhase(prepare, record_outcome)


def consumers(pool: asyncpg.Pool, settings: ServiceSettings) -> list[Consumer]:
    db_slots = asyncio.Semaphore(settings.consumer_slots)
    processor = Processor(pool, latency_ms=settings.processor_latency_ms, db_slots=db_slots)
    return [Consumer(SAGA_QUEUES["payment"], {
        "inventory.reserved": charge_step(processor),
        "inventory.expired": expiry_step(processor),
    }, pool, settings, limiter=db_slots)]
