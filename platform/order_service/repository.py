"""orders and order_items access; an order and its `order.created` event commit together."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import asyncpg
from svckit.outbox import NOTIFY_CHANNEL, OutboxEvent, collect, event_headers

from order_service.events import ORDER_CREATED, order_created

ORDER_COLUMNS = "id, user_id, status, total, currency, request_hash, created_at, updated_at"


@dataclass(frozen=True, slots=True)
class PricedLine:
    product_id: int
    quantity: int
    unit_price: Decimal


class KeyTaken(Exception):
    """Another order already holds this (user, Idempotency-Key)."""


async def _with_items(conn: asyncpg.Connection, rows: list[asyncpg.Record]) -> list[dict[str, Any]]:
    if not rows:
        return []
    ids = [r["id"] for r in rows]
    items = await conn.fetch(
        "SELECT order_id, product_id, quantity, unit_price FROM order_items"
        " WHERE order_id = ANY($1::bigint[]) ORDER BY order_id, line", ids)
    by_order: dict[int, list[dict[str, Any]]] = {i: [] for i in ids}
    for item in items:
        by_order[item["order_id"]].append(dict(item))
    return [{**dict(r), "items": by_order[r["id"]]} for r in rows]


ONE_ORDER_ITEMS = (
    "ARRAY(SELECT ROW(i.product_id, i.quantity, i.unit_price) FROM order_items i"
    " WHERE i.order_id = orders.id ORDER BY i.line) AS items")


async def _one_order(pool: asyncpg.Pool, where: str, *args: Any) -> dict[str, Any] | None:
    """One order with its lines in ONE statement (a polled GET's only round trip)."""
    row = await pool.fetchrow(
        f"SELECT {ORDER_COLUMNS}, {ONE_ORDER_ITEMS} FROM orders WHERE {where}", *args)
    if row is None:
        return None
    order = dict(row)
    order["items"] = [{"product_id": product_id, "quantity": quantity, "unit_price": price}
                      for product_id, quantity, price in row["items"]]
    return order


async def order_by_key(pool: asyncpg.Pool, user_id: int, key: str) -> dict[str, Any] | None:
    return await _one_order(pool, "user_id = $1 AND idempotency_key = $2", user_id, key)


async def order_for_user(pool: asyncpg.Pool, order_id: int, user_id: int) -> dict[str, Any] | None:
    return await _one_order(pool, "id = $1 AND user_id = $2", order_id, user_id)


async def orders_for_user(pool: asyncpg.Pool, user_id: int, limit: int, offset: int
                          ) -> tuple[list[dict[str, Any]], int]:
    async with pool.acquire() as conn:
        total = await conn.fetchval("SELECT count(*) FROM orders WHERE user_id = $1", user_id)
        rows = await conn.fetch(
            f"SELECT {ORDER_COLUMNS} FROM orders WHERE user_id = $1 ORDER BY id DESC"
            " LIMIT $2 OFFSET $3", user_id, limit, offset)
        return await _with_items(conn, list(rows)), total


_PLACE_ORDER = f"""
WITH placed AS (
    INSERT INTO orders (user_id, total, currency, idempotency_key, request_hash, payment_token)
    VALUES ($1, $2, $3, $4, $5, $6) RETURNING {ORDER_COLUMNS}),
lines AS (
    INSERT INTO order_items (order_id, line, product_id, quantity, unit_price)
    SELECT placed.id, l.line, l.product_id, l.quantity, l.unit_price
    FROM placed, unnest($7::integer[], $8::bigint[], $9::integer[], $10::numeric[])
        AS l (line, product_id, quantity, unit_price)),
event AS (
    INSERT INTO outbox (event_id, event_type, payload, headers)
    SELECT $11, $12, $13::jsonb || jsonb_build_object('order_id', placed.id), $14 FROM placed)
SELECT {ORDER_COLUMNS}{{notify}} FROM placed
"""
PLACE_ORDER = _PLACE_ORDER.format(notify="")
"""The order, its lines and its `order.created` outbox row in ONE autocommitted statement
(atomic like the transaction it replaces, one round trip instead of five); the event's
`order_id` is the id the insert generated. The POST collects the event for its hand-over,
so the row is written without a NOTIFY, as `add_event` would."""
PLACE_ORDER_AND_NOTIFY = _PLACE_ORDER.format(
    notify=", pg_notify($15, $11::text) IS NULL AS notified")
"""`PLACE_ORDER` for a caller outside `collecting()`: the NOTIFY wakes the relay."""


async def create_order(pool: asyncpg.Pool, *, user_id: int, key: str, request_hash: str,
                       lines: list[PricedLine], currency: str, payment_token: str
                       ) -> dict[str, Any]:
    """Store the order PENDING and its `order.created` outbox row atomically."""
    total = sum((line.unit_price * line.quantity for line in lines), Decimal("0.00"))
    items = [{"product_id": ln.product_id, "quantity": ln.quantity, "unit_price": ln.unit_price}
             for ln in lines]
    # order_id 0 stands for the generated id, which the statement sets in the stored payload
    # and which is filled in here once known.
    payload = order_created(0, user_id, items, total, currency, payment_token)
    event = OutboxEvent(uuid.uuid4(), ORDER_CREATED, payload, event_headers(), datetime.now(UTC))
    arguments = [user_id, total, currency, key, request_hash, payment_token,
                 list(range(len(lines))), [ln.product_id for ln in lines],
                 [ln.quantity for ln in lines], [ln.unit_price for ln in lines],
                 event.event_id, event.event_type, payload, event.headers]
    statement = PLACE_ORDER
    if not collect(event):
        statement = PLACE_ORDER_AND_NOTIFY
        arguments.append(NOTIFY_CHANNEL)
    try:
        row = await pool.fetchrow(statement, *arguments)
    except asyncpg.UniqueViolationError as exc:
        raise KeyTaken(key) from exc
    assert row is not None  # an INSERT ... RETURNING of one row
    order = dict(row)
    order.pop("notified", None)
    payload["order_id"] = order["id"]
    # The items are exactly the lines just inserted: no need to read them back.
    return {**order, "items": items}
