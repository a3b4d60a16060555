"""svckit's connection pool against a real PostgreSQL server: waiting is bounded."""

from __future__ import annotations

import asyncio
import time

from svckit.db import create_pool
from svckit.problems import is_db_unavailable
from svckit.settings import ServiceSettings

from suites.platform_unit.conftest import PG_SERVER


def test_a_busy_pool_fails_fast_instead_of_queueing_without_limit() -> None:
    """With every connection taken (as when the DB link hangs), the next caller gets a
    database-unavailable error after DB_ACQUIRE_TIMEOUT_S, which the API maps to 503."""
    settings = ServiceSettings(service_name="order", database_url=f"{PG_SERVER}/postgres",
                               db_pool_max=1, db_acquire_timeout_s=0.5)

    async def scenario() -> tuple[BaseException | None, float, int]:
        pool = await create_pool(settings)
        try:
            async with pool.acquire():
                started = time.monotonic()
                error: BaseException | None = None
                try:
                    await pool.fetchval("SELECT 1")
                except BaseException as exc:  # noqa: BLE001 - the test inspects it
                    error = exc
                waited = time.monotonic() - started
            answer = await pool.fetchval("SELECT 1")  # released: usable again
        finally:
            await pool.close()
        return error, waited, answer

    error, waited, answer = asyncio.run(scenario())
    assert error is not None and is_db_unavailable(error), repr(error)
    assert 0.4 <= waited < 2.0, waited
    assert answer == 1
