"""The migrations runner against a real PostgreSQL server."""

from __future__ import annotations

import asyncio

import asyncpg
from svckit.db import ensure_database
from svckit.migrations import apply_migrations, load_migrations


def test_versions_are_ordered_and_namespaced() -> None:
    migrations = load_migrations("svckit", "order_service")
    versions = [m.version for m in migrations]
    assert versions == sorted(versions) and versions[0] == 0
    assert len(set(versions)) == len(versions)


def test_database_created_and_migrations_applied_once_even_concurrently(
        scratch_database: str) -> None:
    migrations = load_migrations("svckit", "product_service")

    async def scenario() -> tuple[list[list[int]], list[int], int, list[int]]:
        await ensure_database(scratch_database, timeout=5)
        await ensure_database(scratch_database, timeout=5)  # idempotent
        first = await asyncpg.connect(scratch_database)
        second = await asyncpg.connect(scratch_database)
        try:
            applied = await asyncio.gather(apply_migrations(first, migrations),
                                           apply_migrations(second, migrations))
            again = await apply_migrations(first, migrations)
            products = await first.fetchval("SELECT count(*) FROM products")
            recorded = [r["version"] for r in await first.fetch(
                "SELECT version FROM schema_migrations ORDER BY version")]
        finally:
            await first.close()
            await second.close()
        return list(applied), again, products, recorded

    applied, again, products, recorded = asyncio.run(scenario())
    all_versions = [m.version for m in migrations]
    assert sorted(applied[0] + applied[1]) == all_versions  # each version applied exactly once
    assert again == []
    assert recorded == all_versions
    assert products == 50  # the seeded catalog
