"""user-service provider states for the order-service -> user-service pair."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from contracts.statekit import token_for


async def user_exists(app: FastAPI, params: dict[str, Any]) -> dict[str, Any]:
    """Upsert the user with exactly this id (email/name/role/password optional)."""
    user_id = int(params["id"])
    email = str(params.get("email") or f"contract-user-{user_id}@example.com").lower()
    name = str(params.get("name") or f"Contract User {user_id}")
    role = str(params.get("role") or "user")
    password_hash = await _hash(app, str(params.get("password") or "contract-password"))
    async with app.state.pool.acquire() as conn:
        await conn.execute("DELETE FROM users WHERE email = $1 AND id <> $2", email, user_id)
        await conn.execute(
            "INSERT INTO users (id, email, name, password_hash, role) VALUES ($1, $2, $3, $4, $5)"
            " ON CONFLICT (id) DO UPDATE SET email = EXCLUDED.email, name = EXCLUDED.name,"
            " password_hash = EXCLUDED.password_hash, role = EXCLUDED.role",
            user_id, email, name, password_hash, role)
    return {"id": user_id, "email": email, "token": token_for(app, user_id, role)}  # type: ignore[arg-type]


async def user_absent(app: FastAPI, params: dict[str, Any]) -> None:
    await app.state.pool.execute("DELETE FROM users WHERE id = $1", int(params["id"]))


async def _hash(app: FastAPI, password: str) -> str:
    from user_service.passwords import hash_password

    return await hash_password(password, app.state.settings.password_scrypt_n)


STATES = {
    "user {id} exists": user_exists,
    "user {id} does not exist": user_absent,
}
