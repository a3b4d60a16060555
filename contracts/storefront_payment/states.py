"""payment-service provider states for the storefront -> payment-service pair."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from fastapi import FastAPI

from contracts.statekit import logged_in

CHARGED_AT = datetime(2026, 12, 1, 20, 42, 24, 123456, tzinfo=UTC)
"""When the state's charge happened: a fixed instant with microseconds, so the served
``created_at`` is deterministic for the pact's datetime matcher (pydantic drops a zero
fraction, which a fixed-format matcher would refuse)."""


async def user_logged_in(app: FastAPI, params: dict[str, Any]) -> dict[str, Any]:
    return await logged_in(app, int(params["id"]))


async def order_paid(app: FastAPI, params: dict[str, Any]) -> dict[str, Any]:
    """A payment row for order ``order_id`` of user ``uid`` (APPROVED unless ``status``)."""
    order_id, user_id = int(params["order_id"]), int(params["uid"])
    status = str(params.get("status", "APPROVED"))
    amount = Decimal(str(params.get("amount", "39.98")))
    async with app.state.pool.acquire() as conn:
        row = await conn.fetchrow(
            "INSERT INTO payments (order_id, user_id, amount, currency, status, created_at)"
            " VALUES ($1, $2, $3, 'EUR', $4, $5) ON CONFLICT (order_id) DO UPDATE SET"
            " user_id = EXCLUDED.user_id, amount = EXCLUDED.amount, status = EXCLUDED.status,"
            " created_at = EXCLUDED.created_at RETURNING id",
            order_id, user_id, amount, status, CHARGED_AT)
    return {"payment_id": row["id"]}


STATES = {
    "user {id} is logged in": user_logged_in,
    "order {order_id} of user {uid} was charged": order_paid,
}
