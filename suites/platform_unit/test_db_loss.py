"""What asyncpg raises when PostgreSQL drops a connection must count as 'database
unavailable' (503 for requests, retried without limit by consumers), never as a bug (500)."""

from __future__ import annotations

import asyncio

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from svckit.problems import PROBLEM_MEDIA_TYPE, install_problem_handlers, is_db_unavailable

from suites.platform_unit.conftest import PG_SERVER

TERMINATE = "SELECT pg_terminate_backend($1)"


async def _error_of(query: str, *, terminate_after_s: float) -> BaseException | None:
    victim = await asyncpg.connect(f"{PG_SERVER}/postgres")
    admin = await asyncpg.connect(f"{PG_SERVER}/postgres")
    try:
        pid = victim.get_server_pid()
        running = asyncio.ensure_future(victim.fetchval(query)) if terminate_after_s else None
        await asyncio.sleep(terminate_after_s)
        await admin.execute(TERMINATE, pid)
        try:
            if running is None:
                await asyncio.sleep(0.2)  # the FATAL notice arrives while the connection idles
                await victim.fetchval(query)
            else:
                await running
        except BaseException as exc:  # noqa: BLE001 - the test inspects it
            return exc
        return None
    finally:
        victim.terminate()
        await admin.close()


@pytest.mark.parametrize("terminate_after_s", [0.0, 0.3], ids=["while-idle", "mid-query"])
def test_a_terminated_backend_is_database_unavailable(terminate_after_s: float) -> None:
    error = asyncio.run(_error_of("SELECT pg_sleep(2)", terminate_after_s=terminate_after_s))
    assert error is not None
    assert is_db_unavailable(error), f"{type(error).__name__}: {error}"


@pytest.mark.parametrize("error", [
    asyncpg.exceptions.AdminShutdownError("terminating connection due to administrator command"),
    asyncpg.exceptions.CrashShutdownError("crash"),
    asyncpg.exceptions.InternalClientError("cannot switch to state 12; another operation (2)"
                                           " is in progress"),
], ids=lambda e: type(e).__name__)
def test_server_side_connection_loss_errors_are_unavailable(error: Exception) -> None:
    assert is_db_unavailable(error)


def test_bad_values_stay_client_errors() -> None:
    assert not is_db_unavailable(asyncpg.exceptions.DataError("bad value"))
    assert not is_db_unavailable(asyncpg.exceptions.UniqueViolationError("duplicate"))


@pytest.mark.parametrize("error", [
    TimeoutError(),
    asyncpg.exceptions.ConnectionDoesNotExistError("connection was closed in the middle"),
], ids=lambda e: type(e).__name__)
def test_a_lost_database_is_a_503_problem_that_says_when_to_retry(error: Exception) -> None:
    """Regression (CI, fault-fuzz under order_to_db latency): a pool acquire timing out gave
    a 503 without `Retry-After`, unlike the request deadline's 503 for the same fault."""
    app = FastAPI()
    install_problem_handlers(app)

    @app.get("/boom")
    async def boom() -> None:
        raise error

    async def call() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://svc") as client:
            return await client.get("/boom")

    answer = asyncio.run(call())
    assert answer.status_code == 503
    assert answer.headers["content-type"] == PROBLEM_MEDIA_TYPE
    assert answer.headers["Retry-After"] == "1"
    assert answer.json()["status"] == 503
