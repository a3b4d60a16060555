"""order-service provider states for the storefront -> order-service pair.

Placing an order makes order-service call user-service and product-service, so the states
about those are forwarded to their contract-mode state endpoints (``contracts.statekit``).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from fastapi import FastAPI

from contracts.statekit import forward, logged_in


async def user_logged_in(app: FastAPI, params: dict[str, Any]) -> dict[str, Any]:
    return await logged_in(app, int(params["id"]))


async def product_exists(app: FastAPI, params: dict[str, Any]) -> dict[str, Any]:
    return await forward(app.state.settings.product_service_url,
                         "product {id} exists with price {price} and stock {stock}", params)


async def order_of_user(app: FastAPI, params: dict[str, Any]) -> dict[str, Any]:
    """Order ``id`` of user ``uid`` with one line (product 4201 x 2 at 19.99)."""
    order_id, user_id = int(params["id"]), int(params["uid"])
    status = str(params.get("status", "PAID"))
    price, quantity = Decimal(str(params.get("unit_price", "19.99"))), 2
    async with app.state.pool.acquire() as conn, conn.transaction():
        await conn.execute("DELETE FROM order_items WHERE order_id = $1", order_id)
        await conn.execute("DELETE FROM orders WHERE id = $1", order_id)
        await conn.execute(
            "INSERT INTO orders (id, user_id, status, total, currency, idempotency_key,"
            " request_hash) VALUES ($1, $2, $3, $4, 'EUR', $5, 'contract')",
            order_id, user_id, status, price * quantity, f"contract-{order_id}")
        await conn.execute(
            "INSERT INTO order_items (order_id, line, product_id, quantity, unit_price)"
            " VALUES ($1, 0, 4201, $2, $3)", order_id, quantity, price)
        await conn.execute("SELECT setval(pg_get_serial_sequence('orders', 'id'),"
                           " greatest((SELECT max(id) FROM orders), 1))")
    return {"order_id": order_id}


async def key_unused(app: FastAPI, params: dict[str, Any]) -> None:
    async with app.state.pool.acquire() as conn, conn.transaction():
        ids = [r["id"] for r in await conn.fetch(
            "SELECT id FROM orders WHERE user_id = $1 AND idempotency_key = $2",
            int(params["id"]), str(params["key"]))]
        await conn.execute("DELETE FROM order_items WHERE order_id = ANY($1::bigint[])", ids)
        await conn.execute("DELETE FROM orders WHERE id = ANY($1::bigint[])", ids)


STATES = {
    "user {id} has not used idempotency key {key}": key_unused,
    "user {id} is logged in": user_logged_in,
    "product {id} exists with price {price} and stock {stock}": product_exists,
    "order {id} belongs to user {uid}": order_of_user,
}
