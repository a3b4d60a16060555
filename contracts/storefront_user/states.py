"""user-service provider states for the storefront -> user-service pair."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from contracts.order_user.states import STATES as LOOKUP_STATES
from contracts.order_user.states import user_exists


async def email_free(app: FastAPI, params: dict[str, Any]) -> None:
    await app.state.pool.execute("DELETE FROM users WHERE email = $1",
                                 str(params["email"]).lower())


async def user_with_password(app: FastAPI, params: dict[str, Any]) -> dict[str, Any]:
    return await user_exists(app, {"id": params.get("id", 7101), "email": params["email"],
                                   "password": params["password"]})


STATES = {
    **LOOKUP_STATES,
    "no user has email {email}": email_free,
    "user {email} exists with password {password}": user_with_password,
}
