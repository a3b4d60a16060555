"""product-service's part of the saga: reserve stock for new orders, then commit or release.

Reserving is all-or-nothing: the order's product rows are locked in product-id order (no
deadlocks between concurrent orders) and their stock read; if any line is short the order
is rejected with nothing taken out, otherwise every line is taken in one statement (the
rows stay locked in between, so the stock read is the stock taken from; `stock >= 0` is
the table's own last guard).
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


LOOK_AND_LOCK = (
    "SELECT (SELECT state FROM reservations WHERE order_id = $1) AS decided,"
    " ARRAY(SELECT ROW(id, stock) FROM products WHERE id = ANY($2::bigint[])"
    " ORDER BY id FOR UPDATE) AS stock")
"""One round trip: the order's earlier decision, if any, and the stock of its products,
whose rows are locked in product-id order (no deadlocks between concurrent orders, and
moving units on payment takes them in the same order)."""

RESERVE = """
WITH wanted AS (SELECT * FROM unnest($2::bigint[], $3::bigint[]) AS w (product_id, quantity)),
taken AS (
    UPDATE products p SET stock = p.stock - w.quantity, reserved = p.reserved + w.quantity,
        updated_at = now()
    FROM wanted w WHERE p.id = w.product_id),
held AS (INSERT INTO reservations (order_id, state) VALUES ($1, 'RESERVED'))
INSERT INTO reservation_items (order_id, product_id, quantity)
SELECT $1, product_id, quantity FROM wanted
"""
"""Take every line's units and record the reservation with its lines, in one statement."""


def first_short(wanted: dict[int, int], stock: dict[int, int]) -> int | None:
    """The first product (in id order) of which fewer units are in stock than wanted; an
    unknown product is short."""
    for product_id in sorted(wanted):
        if stock.get(product_id, -1) < wanted[product_id]:
            return product_id
    return None


async def on_order_created(conn: asyncpg.Connection, event: Event) -> None:
    data = event.payload
    order_id = int(data["order_id"])
    wanted: dict[int, int] = defaultdict(int)
    for item in data["items"]:
        wanted[int(item["product_id"])] += int(item["quantity"])
    ids = sorted(wanted)
    row = await conn.fetchrow(LOOK_AND_LOCK, order_id, ids)
    if row["decided"] is not None:
        await _announce_again(conn, order_id, row["decided"], data)
        return
    short = first_short(wanted, {product_id: stock for product_id, stock in row["stock"]})
    if short is not None:
        await conn.execute(
            "INSERT INTO reservations (order_id, state) VALUES ($1, 'REJECTED')", order_id)
        await add_event(conn, INVENTORY_REJECTED, inventory_rejected(
            order_id, data["user_id"], f"insufficient stock for product {short}"))
        log.info("order %s rejected: product %s short", order_id, short)
        return
    await conn.execute(RESERVE, order_id, ids, [wanted[product_id] for product_id in ids])
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
    # One statement; the sub-select locks the rows in product-id order, as reserving
    # does (no deadlock between the two) before they are updated.
    await conn.execute(
        f"UPDATE products p SET reserved = p.reserved - line.quantity,"
        f" {column} = p.{column} + line.quantity, updated_at = now()"
        " FROM (SELECT products.id, i.quantity FROM products"
        "       JOIN reservation_items i ON i.product_id = products.id"
        "       WHERE i.order_id = $1 ORDER BY products.id FOR UPDATE OF products) AS line"
        " WHERE p.id = line.id", order_id)
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
