"""users table access."""

from __future__ import annotations

import asyncpg

USER_COLUMNS = "id, email, name, role, password_hash"


class EmailTaken(Exception):
    pass


async def create_user(pool: asyncpg.Pool, email: str, name: str, password_hash: str
                      ) -> asyncpg.Record:
    """Insert a user. No `user.registered` event: no service consumes one, and the broker
    treats an event with no bound queue as unroutable (an alarm), not as a silent drop."""
    try:
        return await pool.fetchrow(
            f"INSERT INTO users (email, name, password_hash) VALUES ($1, $2, $3)"
            f" RETURNING {USER_COLUMNS}",
            email, name, password_hash,
        )
    except asyncpg.UniqueViolationError as exc:
        raise EmailTaken(email) from exc


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
