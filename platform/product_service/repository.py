"""Catalog queries (products table)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import asyncpg

COLUMNS = "id, sku, name, description, price, currency, stock"


class DuplicateSku(Exception):
    pass


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
    try:
        return await pool.fetchrow(
            f"INSERT INTO products (sku, name, description, price, stock)"
            f" VALUES ($1, $2, $3, $4, $5) RETURNING {COLUMNS}",
            sku, name, description, price, stock,
        )
    except asyncpg.UniqueViolationError as exc:
        raise DuplicateSku(sku) from exc


async def update_product(pool: asyncpg.Pool, product_id: int, changes: dict[str, Any]
                         ) -> asyncpg.Record | None:
    if not changes:
        return await get_product(pool, product_id)
    allowed = ("name", "description", "price", "stock")
    fields = [f for f in allowed if f in changes]
    assignments = ", ".join(f"{f} = ${i + 2}" for i, f in enumerate(fields))
    return await pool.fetchrow(
        f"UPDATE products SET {assignments}, updated_at = now() WHERE id = $1 RETURNING {COLUMNS}",
        product_id, *(changes[f] for f in fields),
    )
