"""PostgreSQL access: create the service's database if missing, then a connection pool.

Each service owns one database; it is created on first start by connecting to the `postgres`
maintenance database on the same server (through the same proxy, so DB faults apply).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import orjson
from asyncpg.pool import PoolAcquireContext

from svckit.settings import ServiceSettings

log = logging.getLogger("svckit.db")


def database_name(dsn: str) -> str:
    name = urlsplit(dsn).path.lstrip("/")
    if not name:
        raise ValueError(f"DATABASE_URL has no database name: {dsn}")
    return name


def maintenance_dsn(dsn: str) -> str:
    parts = urlsplit(dsn)
    return urlunsplit((parts.scheme, parts.netloc, "/postgres", parts.query, parts.fragment))


async def ensure_database(dsn: str, *, timeout: float) -> None:
    """CREATE DATABASE if it does not exist (tolerates a concurrent creator)."""
    name = database_name(dsn)
    conn = await asyncpg.connect(maintenance_dsn(dsn), timeout=timeout)
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if not exists:
            quoted = '"' + name.replace('"', '""') + '"'
            try:
                await conn.execute(f"CREATE DATABASE {quoted}")
                log.info("created database %s", name)
            except (asyncpg.DuplicateDatabaseError, asyncpg.UniqueViolationError):
                pass
    finally:
        await conn.close()


async def _init_connection(conn: asyncpg.Connection) -> None:
    await conn.set_type_codec(
        "jsonb", encoder=lambda v: orjson.dumps(v).decode(), decoder=orjson.loads,
        schema="pg_catalog",
    )
    await conn.set_type_codec("json", encoder=json.dumps, decoder=orjson.loads, schema="pg_catalog")


class LeanResetConnection(asyncpg.Connection):
    """A pooled connection released without asyncpg's reset query.

    asyncpg's default release sends ``SELECT pg_advisory_unlock_all(); CLOSE ALL;
    UNLISTEN *; RESET ALL`` — one more round trip (through the mesh proxy) on every
    acquire, ~1 in 3 of a polled GET's. The services leave no session state behind on pool
    connections: no session-level ``SET``, no ``LISTEN`` (the relay listens on its own
    connection), no cursors outside transactions, and only transaction-scoped advisory
    locks (the migration lock is taken and released on one connection). An open
    transaction is still rolled back and listeners dropped on release (asyncpg always does
    that). Code that does leave session state on a pool connection must undo it itself.
    """

    def get_reset_query(self) -> str:
        return ""


class BoundedPool(asyncpg.Pool):
    """A pool whose `acquire()` (and so `fetch*`/`execute`) waits at most `acquire_timeout`.

    asyncpg waits for a free connection without limit by default: with the database link
    black-holed every connection hangs until its command timeout (plus the cancel request),
    so queued requests piled up far past the gateway's timeout instead of failing fast with
    503. asyncpg also applies the acquire timeout to the release (reset, cancellation wait).
    """

    __slots__ = ("acquire_timeout",)

    def __init__(self, *args: Any, acquire_timeout: float, **kwargs: Any) -> None:
        self.acquire_timeout = acquire_timeout
        super().__init__(*args, **kwargs)

    def acquire(self, *, timeout: float | None = None) -> PoolAcquireContext:
        return super().acquire(timeout=self.acquire_timeout if timeout is None else timeout)


async def create_pool(settings: ServiceSettings) -> asyncpg.Pool:
    pool = BoundedPool(
        settings.database_url,
        min_size=1,
        max_size=settings.db_pool_max,
        max_queries=50_000,
        max_inactive_connection_lifetime=60,
        init=_init_connection,
        loop=None,
        connection_class=LeanResetConnection,
        record_class=asyncpg.Record,
        command_timeout=settings.db_command_timeout_s,
        timeout=settings.db_connect_timeout_s,
        acquire_timeout=settings.db_acquire_timeout_s,
    )
    return await pool


async def open_database(settings: ServiceSettings) -> asyncpg.Pool:
    """Create the database if needed and open a pool, waiting a while for the server."""
    deadline = time.monotonic() + settings.db_startup_wait_s
    delay = 0.2
    while True:
        try:
            await ensure_database(settings.database_url, timeout=settings.db_connect_timeout_s)
            return await create_pool(settings)
        except (TimeoutError, OSError, asyncpg.PostgresConnectionError, asyncpg.CannotConnectNowError) as exc:
            if time.monotonic() >= deadline:
                raise
            log.warning("database not reachable yet (%s); retrying", exc)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 2.0)
