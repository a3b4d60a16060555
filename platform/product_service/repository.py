"""Catalog queries (products table) and the admin's stock changes (stock_adjustments).

Every change of a product's units outside the saga is recorded as a delta in
`stock_adjustments` ('initial' at creation, 'admin' for a PATCH), applied under the
product's row lock so it never races with a reservation moving units stock -> reserved.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import asyncpg

COLUMNS = "id, sku, name, description, price, currency, stock"


class DuplicateSku(Exception):
    pass


class StockBelowZero(Exception):
    """A relative stock change would leave less than nothing available."""

    def __init__(self, available: int, delta: int) -> None:
        super().__init__(available, delta)
        self.available = available
        self.delta = delta


def _like_pattern(q: str) -> str:
    escaped = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


async def list_products(pool: asyncpg.Pool, limit: int, offset: int, q: str | None
                        ) -> tuple[list[asyncpg.Record], int]:
    if q:
        where = "WHERE name ILIKE $1 OR sku ILIKE $1 OR description ILIKE $1"
        args = [_like_pattern(q)]
    else:
        where, args = "", []
    n = len(args)
    async with pool.acquire() as conn:
        total = await conn.fetchval(f"SELECT count(*) FROM products {where}", *args)
        rows = await conn.fetch(
            f"SELECT {COLUMNS} FROM products {where} ORDER BY id LIMIT ${n + 1} OFFSET ${n + 2}",
            *args, limit, offset,
        )
    return rows, total


async def get_product(pool: asyncpg.Pool, product_id: int) -> asyncpg.Record | None:
    return await pool.fetchrow(f"SELECT {COLUMNS} FROM products WHERE id = $1", product_id)


async def create_product(pool: asyncpg.Pool, sku: str, name: str, description: str,
                         price: Decimal, stock: int) -> asyncpg.Record:
    async with pool.acquire() as conn, conn.transaction():
        try:
            row = await conn.fetchrow(
                f"INSERT INTO products (sku, name, description, price, stock)"
                f" VALUES ($1, $2, $3, $4, $5) RETURNING {COLUMNS}",
                sku, name, description, price, stock,
            )
        except asyncpg.UniqueViolationError as exc:
            raise DuplicateSku(sku) from exc
        await _record_adjustment(conn, row["id"], stock, "initial")
    return row


async def _record_adjustment(conn: asyncpg.Connection, product_id: int, delta: int,
                             reason: str) -> None:
    await conn.execute(
        "INSERT INTO stock_adjustments (product_id, delta, reason) VALUES ($1, $2, $3)",
        product_id, delta, reason)


async def update_product(pool: asyncpg.Pool, product_id: int, changes: dict[str, Any]
                         ) -> asyncpg.Record | None:
    """Apply a PATCH: `stock` (absolute available) or `stock_delta` (relative) under the
    row lock, recorded as an 'admin' adjustment; None if there is no such product."""
    if not changes:
        return await get_product(pool, product_id)
    async with pool.acquire() as conn, conn.transaction():
        available = await conn.fetchval(
            "SELECT stock FROM products WHERE id = $1 FOR UPDATE", product_id)
        if available is None:
            return None
        delta = _stock_delta(available, changes)
        allowed = ("name", "description", "price")
        fields = [f for f in allowed if f in changes]
        assignments = "".join(f", {f} = ${i + 3}" for i, f in enumerate(fields))
        row = await conn.fetchrow(
            f"UPDATE products SET stock = stock + $2{assignments}, updated_at = now()"
            f" WHERE id = $1 RETURNING {COLUMNS}",
            product_id, delta, *(changes[f] for f in fields),
        )
        if delta:
            await _record_adjustment(conn, product_id, delta, "admin")
    return row


def _stock_delta(available: int, changes: dict[str, Any]) -> int:
    if changes.get("stock") is not None:
        return int(changes["stock"]) - available
    delta = int(changes.get("stock_delta") or 0)
    if available + delta < 0:
        raise StockBelowZero(available, delta)
    return delta
