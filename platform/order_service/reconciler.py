"""The order reconciler: no order stays PENDING for ever.

A background task of order-service. Every ORDER_RECONCILE_INTERVAL_S it looks at PENDING
orders (row locks with SKIP LOCKED, so a second instance takes other rows):

* **re-drive**: an order whose `next_redrive_at` (default ORDER_REDRIVE_S after creation) has
  passed gets its `order.created` again (a new event id; the interval then doubles). Every
  step of the saga answers an order it already decided by re-emitting its recorded
  decision, so a lost or dead-lettered event is replaced and the saga continues;
* **expiry**: an order still PENDING ORDER_DEADLINE_S after creation gets `order.expired`
  (again now and then until it is decided). product-service answers for an order it never
  reserved: tombstone (a late `order.created` reserves nothing) and `inventory.rejected`, so
  the order ends REJECTED with nobody charged. For an order holding stock it passes the
  expiry to payment-service (`inventory.expired`), the one that knows whether money moved:
  it closes the charge at the processor — DECLINED when nothing was charged (the order ends
  PAYMENT_FAILED, the reservation is released), APPROVED when the processor had already
  charged (the order ends PAID: never a charge for an order that did not end PAID).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

import asyncpg
from prometheus_client import Counter
from svckit.outbox import add_event
from svckit.settings import ServiceSettings

from order_service.events import ORDER_CREATED, ORDER_EXPIRED, order_created, order_expired

log = logging.getLogger("order_service.reconciler")
BATCH = 100

REDRIVEN = Counter("crashcart_orders_redriven_total",
                   "PENDING orders whose order.created was re-emitted")
EXPIRED = Counter("crashcart_orders_expired_total",
                  "order.expired announcements for PENDING orders past their deadline")

DUE = """
SELECT id, user_id, total, currency, payment_token,
       created_at + make_interval(secs => $1) <= now() AS past_deadline
FROM orders
WHERE status = 'PENDING'
  AND (coalesce(next_redrive_at, created_at + make_interval(secs => $2)) <= now()
       OR (expired_at IS NULL AND created_at + make_interval(secs => $1) <= now()))
ORDER BY id LIMIT $3
FOR UPDATE SKIP LOCKED
"""


class Reconciler:
    def __init__(self, pool: asyncpg.Pool, settings: ServiceSettings,
                 wake_relay: Callable[[], None]) -> None:
        self.pool = pool
        self.settings = settings
        self.wake_relay = wake_relay
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="order-reconciler")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task

    async def _run(self) -> None:
        while True:
            try:
                if await self.reconcile_once():
                    self.wake_relay()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("reconciler pass failed (%s: %s)", type(exc).__name__, exc)
            await asyncio.sleep(self.settings.order_reconcile_interval_s)

    async def reconcile_once(self) -> int:
        """One pass: re-drive or expire every due PENDING order; the number of events added."""
        settings = self.settings
        added = 0
        async with self.pool.acquire() as conn, conn.transaction():
            due = await conn.fetch(DUE, settings.order_deadline_s, settings.order_redrive_s,
                                   BATCH)
            for order in due:
                if order["past_deadline"]:
                    await self._expire(conn, order)
                elif order["payment_token"] is not None:
                    await self._redrive(conn, order)
                else:  # an order from before tokens were kept: it can only expire
                    await conn.execute(
                        "UPDATE orders SET next_redrive_at = created_at + make_interval(secs => $2)"
                        " WHERE id = $1", order["id"], settings.order_deadline_s)
                    continue
                added += 1
        return added

    async def _redrive(self, conn: asyncpg.Connection, order: asyncpg.Record) -> None:
        items = await conn.fetch(
            "SELECT product_id, quantity, unit_price FROM order_items WHERE order_id = $1"
            " ORDER BY line", order["id"])
        await add_event(conn, ORDER_CREATED, order_created(
            order["id"], order["user_id"], [dict(i) for i in items], order["total"],
            order["currency"], order["payment_token"]))
        await self._push_later(conn, order["id"])
        REDRIVEN.inc()
        log.warning("order %s still PENDING: order.created re-emitted", order["id"])

    async def _expire(self, conn: asyncpg.Connection, order: asyncpg.Record) -> None:
        await add_event(conn, ORDER_EXPIRED, order_expired(
            order["id"], order["user_id"], order["total"], order["currency"]))
        await conn.execute("UPDATE orders SET expired_at = coalesce(expired_at, now())"
                           " WHERE id = $1", order["id"])
        await self._push_later(conn, order["id"])
        EXPIRED.inc()
        log.warning("order %s PENDING past its deadline: order.expired", order["id"])

    async def _push_later(self, conn: asyncpg.Connection, order_id: int) -> None:
        """Next push after the order's age (at least ORDER_REDRIVE_S, at most
        ORDER_DEADLINE_S): the interval doubles, so a backlog is not flooded with re-driven
        events, and an expired order is still announced again now and then."""
        await conn.execute(
            "UPDATE orders SET next_redrive_at = now() + least(make_interval(secs => $3),"
            " greatest(make_interval(secs => $2), now() - created_at)) WHERE id = $1",
            order_id, self.settings.order_redrive_s, self.settings.order_deadline_s)
