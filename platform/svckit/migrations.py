"""Plain numbered SQL migrations (`migrations/NNN_name.sql`), applied once, in order.

Runs under a PostgreSQL advisory lock so two instances starting together do not race, and
records each applied version in `schema_migrations`. Each file runs in its own transaction.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from importlib import resources

import asyncpg

log = logging.getLogger("svckit.migrations")
_FILENAME = re.compile(r"^(\d{3,})_([a-z0-9_]+)\.sql$")
LOCK_KEY = 7_346_129_001  # any constant; one lock per database


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    sql: str


def load_migrations(*packages: str) -> list[Migration]:
    """Read `<package>/migrations/*.sql` of each package, sorted by version.

    svckit's own tables come as version 000; a service's files start at 001. Duplicate
    versions and odd file names are rejected.
    """
    found: dict[int, Migration] = {}
    entries = [e for p in packages for e in resources.files(p).joinpath("migrations").iterdir()]
    for entry in entries:
        if not entry.name.endswith(".sql"):
            continue
        match = _FILENAME.match(entry.name)
        if not match:
            raise ValueError(f"migration file name must be NNN_name.sql: {entry.name}")
        version = int(match.group(1))
        if version in found:
            raise ValueError(f"duplicate migration version {version}: {entry.name}")
        found[version] = Migration(version, match.group(2), entry.read_text(encoding="utf-8"))
    return [found[v] for v in sorted(found)]


async def apply_migrations(conn: asyncpg.Connection, migrations: list[Migration]) -> list[int]:
    """Apply the migrations not yet recorded; return the versions applied now."""
    applied_now: list[int] = []
    await conn.execute("SELECT pg_advisory_lock($1)", LOCK_KEY)
    try:
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " version integer PRIMARY KEY, name text NOT NULL,"
            " applied_at timestamptz NOT NULL DEFAULT now())"
        )
        done = {r["version"] for r in await conn.fetch("SELECT version FROM schema_migrations")}
        for migration in migrations:
            if migration.version in done:
                continue
            async with conn.transaction():
                await conn.execute(migration.sql)
                await conn.execute(
                    "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
                    migration.version, migration.name,
                )
            applied_now.append(migration.version)
            log.info("applied migration %03d_%s", migration.version, migration.name)
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", LOCK_KEY)
    return applied_now


async def migrate(pool: asyncpg.Pool, service_package: str) -> list[int]:
    """Apply svckit's and the service's migrations."""
    async with pool.acquire() as conn:
        return await apply_migrations(conn, load_migrations("svckit", service_package))
