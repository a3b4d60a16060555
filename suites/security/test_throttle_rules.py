"""The login throttle's rules on a fake clock, run by the real implementation: the
`login_throttle_attempt` function of user-service's migrations in a scratch PostgreSQL
database (the clock is the function's `p_now`, so no test waits for a lock to expire)."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import TypeVar

import asyncpg
import pytest
from svckit.db import ensure_database
from svckit.migrations import migrate
from user_service.throttle import LoginThrottle, ThrottleSettings

from suites.helpers.platform_db import drop_database

PG_SERVER = os.environ.get("CRASHCART_UNIT_PG", "postgresql://postgres@127.0.0.1:5432")
SETTINGS = ThrottleSettings(account_free_failures=5, account_max_lock_s=900,
                            account_forget_s=900, client_failure_burst=10,
                            client_failures_per_s=1)
T0 = datetime(2026, 1, 1, tzinfo=UTC)
T = TypeVar("T")


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


@pytest.fixture(scope="module")
def database() -> Iterator[str]:
    """A scratch database with svckit's and user-service's migrations applied."""
    dsn = f"{PG_SERVER}/crashcart_throttle_{uuid.uuid4().hex[:10]}"

    async def create() -> None:
        await ensure_database(dsn, timeout=10)
        pool = await asyncpg.create_pool(dsn, min_size=1, max_size=2)
        try:
            await migrate(pool, "user_service")
        finally:
            await pool.close()


    asyncio.run(create())
    try:
        yield dsn
    finally:
        asyncio.run(drop_database(PG_SERVER, dsn.rsplit("/", 1)[1]))


@pytest.fixture
def run(database: str) -> Callable[[Callable[[LoginThrottle], Awaitable[T]]], T]:
    """Run a coroutine with a throttle on the scratch database; keys are fresh per test."""
    def runner(body: Callable[[LoginThrottle], Awaitable[T]]) -> T:
        async def go() -> T:
            pool = await asyncpg.create_pool(database, min_size=1, max_size=4)
            try:
                await pool.execute("TRUNCATE login_throttle_accounts, login_throttle_clients")
                return await body(LoginThrottle(pool, SETTINGS))
            finally:
                await pool.close()
        return asyncio.run(go())
    return runner


def test_five_free_failures_then_a_doubling_lock_capped(run: Callable[..., None]) -> None:
    async def body(throttle: LoginThrottle) -> None:
        assert [await throttle.attempt("a", f"c{n}", at(0)) for n in range(5)] == [0] * 5
        assert await throttle.retry_after_s("a", "other", at(0)) == 1
        waits, now = [], 0.0
        for _ in range(12):
            now += await throttle.retry_after_s("a", "other", at(now))
            assert await throttle.attempt("a", "other", at(now)) == 0
            waits.append(await throttle.retry_after_s("a", "other", at(now)))
        assert waits[:4] == [2, 4, 8, 16] and max(waits) == 900
    run(body)


def test_a_locked_attempt_is_not_counted(run: Callable[..., None]) -> None:
    async def body(throttle: LoginThrottle) -> None:
        for _ in range(5):
            await throttle.attempt("a", "c", at(0))
        for _ in range(20):  # refused while locked: the lock does not grow
            assert await throttle.attempt("a", "c", at(0.5)) == 1
        assert await throttle.attempt("a", "c", at(1)) == 0
        assert await throttle.retry_after_s("a", "c", at(1)) == 2
    run(body)


def test_a_success_clears_the_account_and_refunds_the_client(run: Callable[..., None]) -> None:
    async def body(throttle: LoginThrottle) -> None:
        for _ in range(4):
            await throttle.attempt("a", "c", at(0))
        assert await throttle.attempt("a", "c", at(0)) == 0  # the right password, in advance
        await throttle.succeeded("a", "c")
        assert await throttle.retry_after_s("a", "c", at(0)) == 0
        for _ in range(4):
            assert await throttle.attempt("a", "c", at(0)) == 0
    run(body)


def test_the_client_bucket_refills_and_successes_never_drain_it(
        run: Callable[..., None]) -> None:
    async def body(throttle: LoginThrottle) -> None:
        for n in range(10):
            assert await throttle.attempt(f"acct{n}", "c", at(0)) == 0
        assert await throttle.attempt("fresh", "c", at(0)) == 1
        assert await throttle.attempt("fresh", "d", at(0)) == 0  # another client: not affected
        assert await throttle.attempt("fresh2", "c", at(1)) == 0  # one failure back after 1 s
        for n in range(100):
            assert await throttle.attempt(f"ok{n}", "e", at(2)) == 0
            await throttle.succeeded(f"ok{n}", "e")
    run(body)


def test_an_idle_account_is_forgotten(run: Callable[..., None]) -> None:
    async def body(throttle: LoginThrottle) -> None:
        for _ in range(5):
            await throttle.attempt("a", "c", at(0))
        assert await throttle.retry_after_s("a", "c", at(2)) == 0
        assert await throttle.attempt("a", "c", at(2)) == 0  # failure 6: locked for 2 s
        assert await throttle.retry_after_s("a", "c", at(2)) == 2
        assert await throttle.attempt("a", "c", at(2 + 901)) == 0  # forgotten: a new count
        assert await throttle.retry_after_s("a", "c", at(2 + 901)) == 0
    run(body)


def test_concurrent_attempts_cannot_slip_past_the_lock(run: Callable[..., None]) -> None:
    """Many workers at once (here: 40 concurrent calls on 4 connections): exactly the free
    failures go ahead, every other attempt is told to wait."""
    async def body(throttle: LoginThrottle) -> None:
        waits = await asyncio.gather(*(throttle.attempt("a", f"c{n}", at(0))
                                       for n in range(40)))
        assert sorted(waits).count(0) == 5 and all(w >= 1 for w in waits if w), waits
    run(body)
