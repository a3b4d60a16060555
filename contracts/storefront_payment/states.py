"""payment-service provider states for the storefront -> payment-service pair."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from fastapi import FastAPI

from contracts.statekit import logged_in


async def user_logged_in(app: FastAPI, params: dict[str, Any]) -> dict[str, Any]:
    return await logged_in(app, int(params["id"]))


async def order_paid(app: FastAPI, params: dict[str, Any]) -> dict[str, Any]:
    """A payment row for order ``order_id`` of user ``uid`` (APPROVED unless ``status``)."""
    order_id, user_id = int(params["order_id"]), int(params["uid"])
    status = str(params.get("status", "APPROVED"))
    amount = Decimal(str(params.get("amount", "39.98")))
    async with app.state.pool.acquire() as conn:
        row = await conn.fetchrow(
            "INSERT INTO payments (order_id, user_id, amount, currency, status)"
            " VALUES ($1, $2, $3, 'EUR', $4) ON CONFLICT (order_id) DO UPDATE SET"
            " user_id = EXCLUDED.user_id, amount = EXCLUDED.amount, status = EXCLUDED.status"
            " RETURNING id", order_id, user_id, amount, status)
    return {"payment_id": row["id"]}


STATES = {
    "user {id} is logged in": user_logged_in,
    "order {order_id} of user {uid} was charged": order_paid,
}
