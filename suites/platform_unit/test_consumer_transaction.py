"""The saga consumer's transaction on a real database: the statement that begins it also
records the inbox row (`svckit.simple_query`), so the consumer commits and rolls back itself.

What must hold: a first delivery is applied once and committed with its inbox row; a
redelivery is recognised and not applied; the outbox events a handler adds are written by
the statement that commits, exactly as given (NOTIFYed only when nobody hands them over);
a failing or interrupted handler leaves nothing behind and its connection goes back to the
pool outside any transaction; an event id is stored exactly as sent, whatever quotes or
backslashes it holds.
"""
from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

import asyncpg
import pytest
from svckit.consumer import Consumer, Event, PoisonMessage
from svckit.db import create_pool, ensure_database
from svckit.migrations import apply_migrations, load_migrations
from svckit.outbox import NOTIFY_CHANNEL, add_event, collecting
from svckit.settings import ServiceSettings
from svckit.simple_query import quote_literal
from svckit.topology import QueueSpec

from suites.platform_unit.conftest import PG_SERVER

QUEUE = QueueSpec("unit.saga", ("unit.happened",))
TRICKY_IDS = ["plain-id", "it's", "back\\slash\\", "'); DROP TABLE inbox; --", "$$ E'x' $$",
              "ünïcødé ✓", "\\'", "''"]

Body = Callable[[asyncpg.Connection, Event], Awaitable[None]]


async def _pool(dsn: str) -> asyncpg.Pool:
    await ensure_database(dsn, timeout=5)
    conn = await asyncpg.connect(dsn)
    try:
        await apply_migrations(conn, load_migrations("svckit"))
        await conn.execute("CREATE TABLE effects (event_id text NOT NULL)")
    finally:
        await conn.close()
    settings = ServiceSettings(service_name="product", database_url=dsn,  # type: ignore[call-arg]
                               db_pool_max=1)
    pool = await create_pool(settings)
    _watch_resets(asyncio.get_running_loop())
    return pool


def _watch_resets(loop: asyncio.AbstractEventLoop) -> None:
    """asyncpg reports a connection released inside a transaction to the loop's exception
    handler (and rolls it back itself): collect those reports."""
    reports: list[str] = []
    loop.set_exception_handler(lambda _, context: reports.append(str(context.get("message"))))
    loop.crashcart_reports = reports  # type: ignore[attr-defined]


def _with_pool(dsn: str, scenario: Callable[[asyncpg.Pool], Awaitable[None]]) -> None:
    """Run `scenario` with a pool of one connection on a fresh database (see `_pool`)."""
    async def run() -> None:
        pool = await _pool(dsn)
        try:
            await scenario(pool)
        finally:
            await pool.close()

    asyncio.run(run())


def _consumer(pool: asyncpg.Pool, body: Body) -> Consumer:
    settings = ServiceSettings(service_name="product",  # type: ignore[call-arg]
                               database_url="postgresql://unused/unused")
    return Consumer(QUEUE, {"unit.happened": body}, pool, settings)


async def _record_effect(conn: asyncpg.Connection, event: Event) -> None:
    await conn.execute("INSERT INTO effects (event_id) VALUES ($1)", event.event_id)


def _event(event_id: str) -> Event:
    return Event(event_id=event_id, event_type="unit.happened", payload={}, attempt=1)


async def _state(pool: asyncpg.Pool) -> tuple[list[str], list[str]]:
    inbox = [r["event_id"] for r in await pool.fetch("SELECT event_id FROM inbox ORDER BY 1")]
    effects = [r["event_id"] for r in await pool.fetch("SELECT event_id FROM effects ORDER BY 1")]
    return inbox, effects


async def _in_transaction_after(pool: asyncpg.Pool) -> bool:
    """Was a connection released inside a transaction, or is the pool's (only) connection
    inside one as the next user gets it?"""
    async with pool.acquire() as conn:
        await conn.fetchval("SELECT 1")
        inside = conn.is_in_transaction()
    reports = asyncio.get_running_loop().crashcart_reports  # type: ignore[attr-defined]
    return inside or any("active transaction" in report for report in reports)


def test_a_first_delivery_is_applied_once_and_a_redelivery_is_not(scratch_database: str) -> None:
    async def scenario(pool: asyncpg.Pool) -> None:
        consumer = _consumer(pool, _record_effect)
        for event_id in TRICKY_IDS:
            assert await consumer.deliver(_event(event_id)) is False
            assert await consumer.deliver(_event(event_id)) is True
        inbox, effects = await _state(pool)
        assert inbox == sorted(TRICKY_IDS)
        assert effects == sorted(TRICKY_IDS)
        assert not await _in_transaction_after(pool)

    _with_pool(scratch_database, scenario)


async def _fails(conn: asyncpg.Connection, event: Event) -> None:
    await _record_effect(conn, event)
    await add_event(conn, "unit.followed", {"after": event.event_id})
    raise RuntimeError("the handler broke after writing")


async def _swallows_a_failed_statement(conn: asyncpg.Connection, event: Event) -> None:
    await _record_effect(conn, event)
    try:
        await conn.execute("SELECT 1 / 0")
    except asyncpg.DivisionByZeroError:
        pass  # the transaction is aborted on the server; COMMIT would roll it back


@pytest.mark.parametrize("body", [_fails, _swallows_a_failed_statement],
                         ids=["raises", "swallows-a-failed-statement"])
def test_a_failed_handler_leaves_nothing_and_no_open_transaction(
        scratch_database: str, body: Body) -> None:
    async def scenario(pool: asyncpg.Pool) -> None:
        consumer = _consumer(pool, body)
        with pytest.raises(RuntimeError):
            await consumer.deliver(_event("doomed"))
        assert await _state(pool) == ([], [])
        assert await pool.fetchval("SELECT count(*) FROM outbox") == 0
        assert not await _in_transaction_after(pool)
        # The same event is processed normally once the handler works.
        assert await _consumer(pool, _record_effect).deliver(_event("doomed")) is False
        assert await _state(pool) == (["doomed"], ["doomed"])

    _with_pool(scratch_database, scenario)


def test_an_interrupted_delivery_leaves_nothing_and_no_open_transaction(
        scratch_database: str) -> None:
    async def scenario(pool: asyncpg.Pool) -> None:
        started = asyncio.Event()

        async def slow(conn: asyncpg.Connection, event: Event) -> None:
            await _record_effect(conn, event)
            started.set()
            await conn.execute("SELECT pg_sleep(5)")

        delivery = asyncio.ensure_future(_consumer(pool, slow).deliver(_event("cut")))
        await asyncio.wait_for(started.wait(), 5)
        await asyncio.sleep(0.1)
        delivery.cancel()
        with pytest.raises(asyncio.CancelledError):
            await delivery
        assert await _state(pool) == ([], [])
        assert not await _in_transaction_after(pool)

    _with_pool(scratch_database, scenario)


def test_an_event_that_cannot_be_stored_fails_its_handler_as_a_bad_payload(
        scratch_database: str) -> None:
    """As when add_event wrote at once: the payload is rendered inside the handler."""
    async def scenario(pool: asyncpg.Pool) -> None:
        async def unstorable(conn: asyncpg.Connection, event: Event) -> None:
            await _record_effect(conn, event)
            await add_event(conn, "unit.followed", {"not json": object()})

        with pytest.raises(PoisonMessage, match="bad payload"):
            await _consumer(pool, unstorable).deliver(_event("unstorable"))
        assert await _state(pool) == ([], [])
        assert not await _in_transaction_after(pool)

    _with_pool(scratch_database, scenario)


PAYLOADS = [{"text": text, "n": n, "nested": {"list": [text, None, True, 1.5]}}
            for n, text in enumerate(TRICKY_IDS)]


@pytest.mark.parametrize("handed_over", [True, False], ids=["handed-over", "not-collected"])
def test_a_handlers_events_are_written_with_the_commit_and_notified_unless_handed_over(
        scratch_database: str, handed_over: bool) -> None:
    async def scenario(pool: asyncpg.Pool) -> None:
        listener = await asyncpg.connect(scratch_database)
        notified: list[str] = []
        await listener.add_listener(NOTIFY_CHANNEL, lambda *args: notified.append(args[3]))
        try:
            async def announce(conn: asyncpg.Connection, event: Event) -> None:
                await _record_effect(conn, event)
                for payload in PAYLOADS:
                    await add_event(conn, "unit.followed", payload)
                assert await conn.fetchval("SELECT count(*) FROM outbox") == 0  # not yet

            with collecting() if handed_over else contextlib.nullcontext([]) as collected:
                assert await _consumer(pool, announce).deliver(_event("announcing")) is False
            rows = await pool.fetch(
                "SELECT event_id, event_type, payload, headers FROM outbox ORDER BY id")
            assert [r["payload"] for r in rows] == PAYLOADS
            assert {r["event_type"] for r in rows} == {"unit.followed"}
            if handed_over:
                assert [r["event_id"] for r in rows] == [e.event_id for e in collected]
                assert [r["headers"] for r in rows] == [e.headers for e in collected]
            # A NOTIFY only where no writer hands the events over to its relay.
            expected = [] if handed_over else [str(r["event_id"]) for r in rows]
            await pool.execute(f"NOTIFY {NOTIFY_CHANNEL}, 'marker'")  # arrives after them
            for _ in range(100):
                if notified[-1:] == ["marker"]:
                    break
                await asyncio.sleep(0.02)
            assert notified == [*expected, "marker"]
            # Outside a consumer's transaction add_event writes at once, as before.
            async with pool.acquire() as conn, conn.transaction():
                await add_event(conn, "unit.direct", {"n": 1})
                assert await conn.fetchval(
                    "SELECT count(*) FROM outbox WHERE event_type = 'unit.direct'") == 1
            assert not await _in_transaction_after(pool)
        finally:
            await listener.close()

    _with_pool(scratch_database, scenario)


@pytest.mark.parametrize("text", TRICKY_IDS)
@pytest.mark.parametrize("conforming", ["on", "off"])
def test_a_quoted_literal_reads_back_as_the_same_text(text: str, conforming: str) -> None:
    async def scenario() -> str:
        conn = await asyncpg.connect(f"{PG_SERVER}/postgres")
        try:
            await conn.execute(f"SET standard_conforming_strings = {conforming}")
            return str(await conn.fetchval(f"SELECT {quote_literal(text)}::text"))
        finally:
            await conn.close()

    assert asyncio.run(scenario()) == text


def test_a_nul_character_is_refused() -> None:
    with pytest.raises(ValueError, match="NUL"):
        quote_literal("a\x00b")
