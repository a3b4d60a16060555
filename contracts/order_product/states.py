"""product-service provider states for the order-service -> product-service pair.

Stock is set as "available" with the conservation ledger kept when the platform has one
(``stock_adjustments``: the sum of deltas equals stock + reserved + sold).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import asyncpg
from fastapi import FastAPI


async def _has_ledger(conn: asyncpg.Connection) -> bool:
    return bool(await conn.fetchval("SELECT to_regclass('stock_adjustments') IS NOT NULL"))


async def product_exists(app: FastAPI, params: dict[str, Any]) -> dict[str, Any]:
    """Upsert product ``id`` with this price and available stock (sku/name optional)."""
    product_id = int(params["id"])
    price = Decimal(str(params.get("price", "19.99")))
    stock = int(params.get("stock", 10))
    sku = str(params.get("sku") or f"PACT-{product_id}")
    name = str(params.get("name") or f"Contract product {product_id}")
    async with app.state.pool.acquire() as conn, conn.transaction():
        before = await conn.fetchval("SELECT stock FROM products WHERE id = $1 FOR UPDATE",
                                     product_id)
        await conn.execute("DELETE FROM products WHERE sku = $1 AND id <> $2"
                           " AND NOT EXISTS (SELECT 1 FROM reservation_items r"
                           " WHERE r.product_id = products.id)", sku, product_id)
        await conn.execute(
            "INSERT INTO products (id, sku, name, description, price, currency, stock)"
            " VALUES ($1, $2, $3, '', $4, 'EUR', $5) ON CONFLICT (id) DO UPDATE SET"
            " price = EXCLUDED.price, stock = EXCLUDED.stock, updated_at = now()",
            product_id, sku, name, price, stock)
        if await _has_ledger(conn):
            delta = stock - (before or 0)
            if delta:
                await conn.execute(
                    "INSERT INTO stock_adjustments (product_id, delta, reason) VALUES ($1, $2, $3)",
                    product_id, delta, "initial" if before is None else "admin")
        await conn.execute("SELECT setval(pg_get_serial_sequence('products', 'id'),"
                           " greatest((SELECT max(id) FROM products), 1))")
    return {"id": product_id}


async def product_absent(app: FastAPI, params: dict[str, Any]) -> None:
    product_id = int(params["id"])
    async with app.state.pool.acquire() as conn, conn.transaction():
        if await conn.fetchval("SELECT 1 FROM reservation_items WHERE product_id = $1",
                               product_id):
            raise RuntimeError(f"product {product_id} has reservations; pick another id")
        if await _has_ledger(conn):
            await conn.execute("DELETE FROM stock_adjustments WHERE product_id = $1", product_id)
        await conn.execute("DELETE FROM products WHERE id = $1", product_id)


STATES = {
    "product {id} exists with price {price} and stock {stock}": product_exists,
    "product {id} does not exist": product_absent,
}
