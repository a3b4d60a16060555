"""PostgreSQL access: create the service's database if missing, then a connection pool.

Each service owns one database; it is created on first start by connecting to the `postgres`
maintenance database on the same server (through the same proxy, so DB faults apply).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import orjson

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


async def create_pool(settings: ServiceSettings) -> asyncpg.Pool:
    return await asyncpg.create_pool(
        settings.database_url,
        min_size=1,
        max_size=settings.db_pool_max,
        command_timeout=settings.db_command_timeout_s,
        timeout=settings.db_connect_timeout_s,
        init=_init_connection,
        max_inactive_connection_lifetime=60,
    )


async def open_database(settings: ServiceSettings) -> asyncpg.Pool:
    """Create the database if needed and open a pool, waiting a while for the server."""
    deadline = time.monotonic() + settings.db_startup_wait_s
    delay = 0.2
    while True:
        try:
            await ensure_database(settings.database_url, timeout=settings.db_connect_timeout_s)
            return await create_pool(settings)
        except (OSError, asyncio.TimeoutError, asyncpg.PostgresConnectionError,
                asyncpg.CannotConnectNowError) as exc:
            if time.monotonic() >= deadline:
                raise
            log.warning("database not reachable yet (%s); retrying", exc)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 2.0)
