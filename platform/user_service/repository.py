"""users table access."""

from __future__ import annotations

import asyncpg
from svckit.outbox import add_event

USER_COLUMNS = "id, email, name, role, password_hash"


class EmailTaken(Exception):
    pass


async def create_user(pool: asyncpg.Pool, email: str, name: str, password_hash: str
                      ) -> asyncpg.Record:
    """Insert a user and its `user.registered` event in one transaction."""
    async with pool.acquire() as conn, conn.transaction():
        try:
            row = await conn.fetchrow(
                f"INSERT INTO users (email, name, password_hash) VALUES ($1, $2, $3)"
                f" RETURNING {USER_COLUMNS}",
                email, name, password_hash,
            )
        except asyncpg.UniqueViolationError as exc:
            raise EmailTaken(email) from exc
        await add_event(conn, "user.registered", {"user_id": row["id"], "email": row["email"]})
    return row


async def user_by_email(pool: asyncpg.Pool, email: str) -> asyncpg.Record | None:
    return await pool.fetchrow(f"SELECT {USER_COLUMNS} FROM users WHERE email = $1", email)


async def user_by_id(pool: asyncpg.Pool, user_id: int) -> asyncpg.Record | None:
    return await pool.fetchrow(f"SELECT {USER_COLUMNS} FROM users WHERE id = $1", user_id)


async def upsert_admin(pool: asyncpg.Pool, email: str, name: str, password_hash: str) -> None:
    await pool.execute(
        "INSERT INTO users (email, name, password_hash, role) VALUES ($1, $2, $3, 'admin')"
        " ON CONFLICT (email) DO UPDATE SET role = 'admin', password_hash = EXCLUDED.password_hash",
        email, name, password_hash,
    )
