"""product-service's part of the saga: reserve stock for new orders, then commit or release.

Reserving is all-or-nothing: every line's `UPDATE ... WHERE stock >= qty` runs inside a
savepoint, in product-id order (no deadlocks between concurrent orders); if any line is
short, the savepoint rolls back and the order is rejected with nothing taken out.
Units move between the product's columns: reserving stock -> reserved, committing
reserved -> sold, releasing reserved -> stock (so stock + reserved + sold never changes).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from typing import Any

import asyncpg
from svckit.consumer import Consumer, Event
from svckit.outbox import add_event
from svckit.settings import ServiceSettings
from svckit.topology import SAGA_QUEUES

log = logging.getLogger("product_service.events")


INVENTORY_RESERVED = "inventory.reserved"
INVENTORY_REJECTED = "inventory.rejected"
INVENTORY_EXPIRED = "inventory.expired"


def inventory_reserved(order_created: dict[str, Any]) -> dict[str, Any]:
    """Payload of `inventory.reserved`: what payment-service needs, passed through."""
    return {key: order_created[key]
            for key in ("order_id", "user_id", "amount", "currency", "payment_token")}


def inventory_rejected(order_id: int, user_id: int, reason: str) -> dict[str, Any]:
    return {"order_id": order_id, "user_id": user_id, "reason": reason}


def inventory_expired(order_expired: dict[str, Any]) -> dict[str, Any]:
    """Payload of `inventory.expired`: the expired order's charge facts, for payment-service
    to close the charge (passed through from `order.expired`)."""
    return {key: order_expired[key] for key in ("order_id", "user_id", "amount", "currency")}


class _Short(Exception):
    def __init__(self, product_id: int) -> None:
        super().__init__(product_id)
        self.product_id = product_id


async def on_order_created(conn: asyncpg.Connection, event: Event) -> None:
    data = event.payload
    order_id = int(data["order_id"])
    decided = await conn.fetchval("SELECT state FROM reservations WHERE order_id = $1", order_id)
    if decided is not None:
        await _announce_again(conn, order_id, decided, data)
        return
    wanted: dict[int, int] = defaultdict(int)
    for item in data["items"]:
        wanted[int(item["product_id"])] += int(item["quantity"])
    try:
        async with conn.transaction():
            for product_id in sorted(wanted):
                taken = await conn.fetchval(
                    "UPDATE products SET stock = stock - $2, reserved = reserved + $2,"
                    " updated_at = now()"
                    " WHERE id = $1 AND stock >= $2 RETURNING id",
                    product_id, wanted[product_id],
                )
                if taken is None:
                    raise _Short(product_id)
            await conn.execute(
                "INSERT INTO reservations (order_id, state) VALUES ($1, 'RESERVED')", order_id)
            await conn.executemany(
                "INSERT INTO reservation_items (order_id, product_id, quantity)"
                " VALUES ($1, $2, $3)",
                [(order_id, pid, qty) for pid, qty in sorted(wanted.items())],
            )
    except _Short as short:
        await conn.execute(
            "INSERT INTO reservations (order_id, state) VALUES ($1, 'REJECTED')", order_id)
        await add_event(conn, INVENTORY_REJECTED, inventory_rejected(
            order_id, data["user_id"], f"insufficient stock for product {short.product_id}"))
        log.info("order %s rejected: product %s short", order_id, short.product_id)
        return
    await add_event(conn, INVENTORY_RESERVED, inventory_reserved({**data, "order_id": order_id}))
    log.info("order %s reserved", order_id)


async def _announce_again(conn: asyncpg.Connection, order_id: int, state: str,
                          data: dict[str, Any]) -> None:
    """A re-driven (or late) order.created for an order already decided: re-emit the
    recorded decision while the order may still wait for it; stay silent once it is over."""
    if state == "RESERVED":
        await add_event(conn, INVENTORY_RESERVED, inventory_reserved({**data, "order_id": order_id}))
    elif state == "REJECTED":
        await add_event(conn, INVENTORY_REJECTED, inventory_rejected(
            order_id, data["user_id"], "insufficient stock (decided earlier)"))
    log.info("order %s already %s; %s", order_id, state,
             "re-announced" if state in ("RESERVED", "REJECTED") else "ignored")


async def _tombstone(conn: asyncpg.Connection, order_id: int) -> bool:
    """Mark an order that ended before anything was reserved: a late order.created is ignored."""
    marked = await conn.fetchval(
        "INSERT INTO reservations (order_id, state) VALUES ($1, 'EXPIRED')"
        " ON CONFLICT (order_id) DO NOTHING RETURNING order_id", order_id)
    return marked is not None


async def _move_reserved(conn: asyncpg.Connection, order_id: int, state: str,
                         column: str) -> bool:
    """RESERVED -> `state`, moving the order's units from `reserved` to `column`."""
    moved = await conn.fetchval(
        "UPDATE reservations SET state = $2, updated_at = now()"
        " WHERE order_id = $1 AND state = 'RESERVED' RETURNING order_id", order_id, state)
    if moved is None:
        return False
    items = await conn.fetch(
        "SELECT product_id, quantity FROM reservation_items WHERE order_id = $1"
        " ORDER BY product_id", order_id)
    # Row locks in product-id order, as reserving takes them: no deadlock between the two.
    await conn.executemany(
        f"UPDATE products SET reserved = reserved - $2, {column} = {column} + $2,"
        " updated_at = now() WHERE id = $1",
        [(item["product_id"], item["quantity"]) for item in items])
    return True


async def on_order_paid(conn: asyncpg.Connection, event: Event) -> None:
    """The reservation becomes a sale: reserved -> sold."""
    order_id = int(event.payload["order_id"])
    if await _move_reserved(conn, order_id, "COMMITTED", "sold"):
        log.info("order %s: reservation committed", order_id)


async def on_order_payment_failed(conn: asyncpg.Connection, event: Event) -> None:
    """Compensation: put the reserved units back on sale."""
    order_id = int(event.payload["order_id"])
    if await _move_reserved(conn, order_id, "RELEASED", "stock"):
        log.info("order %s: reservation released", order_id)
    elif await _tombstone(conn, order_id):
        log.info("order %s failed before it was reserved: tombstoned", order_id)


async def on_order_expired(conn: asyncpg.Connection, event: Event) -> None:
    """The order passed its deadline; what happens depends on what product-service did:

    * nothing reserved yet: tombstone it (a late order.created takes nothing) and reject
      it — nobody was charged, since payment-service only charges a reserved order;
    * rejected earlier: say so again (inventory.rejected);
    * units held: hand the expiry to payment-service (`inventory.expired`), which closes the
      charge: the order then ends PAYMENT_FAILED (units released by order.payment_failed)
      or PAID if it had been charged (units committed by order.paid);
    * committed, released or tombstoned: the order is over; nothing to say.
    """
    data = event.payload
    order_id = int(data["order_id"])
    if await _tombstone(conn, order_id):
        await add_event(conn, INVENTORY_REJECTED, inventory_rejected(
            order_id, data["user_id"], "the order expired before stock was reserved"))
        log.info("order %s expired before it was reserved: tombstoned, rejected", order_id)
        return
    state = await conn.fetchval("SELECT state FROM reservations WHERE order_id = $1", order_id)
    if state == "REJECTED":
        await add_event(conn, INVENTORY_REJECTED, inventory_rejected(
            order_id, data["user_id"], "insufficient stock (decided earlier)"))
    elif state == "RESERVED":
        await add_event(conn, INVENTORY_EXPIRED, inventory_expired(data))
        log.info("order %s expired holding stock: payment-service decides", order_id)


def consumers(pool: asyncpg.Pool, settings: ServiceSettings) -> list[Consumer]:
    return [Consumer(SAGA_QUEUES["product"], {
        "order.created": on_order_created,
        "order.paid": on_order_paid,
        "order.payment_failed": on_order_payment_failed,
        "order.expired": on_order_expired,
    }, pool, settings)]
