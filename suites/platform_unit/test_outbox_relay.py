"""The outbox relay on a real database and a real broker: a NOTIFY that arrives while a pass
is waiting for its confirm starts the next pass at once (not at the next poll), and no row
lock, transaction or pooled connection is held while the relay waits for the broker.

The relay's broker is a gated publisher to a private queue on the real RabbitMQ: the gate
holds the first confirm open so the test can act "during the pass".
"""
from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator

import aio_pika
import asyncpg
import pytest
from svckit.db import create_pool, ensure_database
from svckit.migrations import apply_migrations, load_migrations
from svckit.outbox import OutboxRelay, add_event, collecting
from svckit.settings import ServiceSettings

from chaos.topology import load_topology

POLL_S = 30.0
"""Far longer than the test's bounds: only a wake-up can make the relay publish in time."""


class GatedPublisher:
    """The relay's broker: publishes with confirms to one private queue; the first publish
    waits at `gate` before it is sent."""

    def __init__(self, channel: aio_pika.abc.AbstractChannel, queue: str) -> None:
        self.channel = channel
        self.queue = queue
        self.gate = asyncio.Event()
        self.waiting = asyncio.Event()
        self.published: list[str] = []

    @property
    def is_ready(self) -> bool:
        return True

    async def wait_ready(self) -> None:
        return None

    async def publish(self, message: aio_pika.Message, routing_key: str) -> None:
        if not self.published:
            self.waiting.set()
            await self.gate.wait()
        await self.channel.default_exchange.publish(message, routing_key=self.queue, timeout=5)
        self.published.append(routing_key)


def _amqp_url() -> str:
    rabbit = load_topology().rabbitmq
    return rabbit.url(host=rabbit.host, port=rabbit.port)


@contextlib.asynccontextmanager
async def _relay(dsn: str) -> AsyncIterator[tuple[OutboxRelay, GatedPublisher, asyncpg.Pool]]:
    await ensure_database(dsn, timeout=5)
    conn = await asyncpg.connect(dsn)
    try:
        await apply_migrations(conn, load_migrations("svckit"))
    finally:
        await conn.close()
    settings = ServiceSettings(service_name="product", database_url=dsn,  # type: ignore[call-arg]
                               outbox_poll_s=POLL_S)
    pool = await create_pool(settings)
    connection = await aio_pika.connect(_amqp_url(), timeout=10)
    channel = await connection.channel(publisher_confirms=True)
    queue = await channel.declare_queue(f"cc-unit-relay-{uuid.uuid4().hex[:8]}",
                                        exclusive=True, auto_delete=True)
    publisher = GatedPublisher(channel, queue.name)
    relay = OutboxRelay(pool, publisher, settings)  # type: ignore[arg-type]
    relay.start()
    try:
        yield relay, publisher, pool
    finally:
        publisher.gate.set()
        await relay.stop()
        await connection.close()
        await pool.close()


async def _add(pool: asyncpg.Pool, event_type: str) -> int:
    async with pool.acquire() as conn, conn.transaction():
        await add_event(conn, event_type, {"n": event_type})
        return int(await conn.fetchval("SELECT max(id) FROM outbox"))


async def _published(pool: asyncpg.Pool, row_id: int) -> bool:
    return bool(await pool.fetchval(
        "SELECT published_at IS NOT NULL FROM outbox WHERE id = $1", row_id))


async def _wait_published(pool: asyncpg.Pool, row_id: int, timeout_s: float) -> bool:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while asyncio.get_running_loop().time() < deadline:
        if await _published(pool, row_id):
            return True
        await asyncio.sleep(0.05)
    return await _published(pool, row_id)


@pytest.mark.timeout(60)
def test_a_notify_during_a_pass_is_not_lost_and_no_lock_is_held(scratch_database: str) -> None:
    async def scenario() -> None:
        async with _relay(scratch_database) as (_, publisher, pool):
            await asyncio.sleep(0.5)  # the LISTEN connection is up
            first = await _add(pool, "test.first")
            await asyncio.wait_for(publisher.waiting.wait(), 10)

            # The relay now waits for the broker with the first row read: nothing is held.
            async with pool.acquire() as conn, conn.transaction():
                locked = await conn.fetchval(
                    "SELECT id FROM outbox WHERE id = $1 FOR UPDATE NOWAIT", first)
                assert locked == first
            stuck = await pool.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND state LIKE 'idle in transaction%'")
            assert stuck == 0, "a connection stays in a transaction while waiting for confirms"

            second = await _add(pool, "test.second")  # its NOTIFY arrives during the pass
            await asyncio.sleep(0.3)
            publisher.gate.set()
            assert await _wait_published(pool, first, 5)
            assert await _wait_published(pool, second, 5), (
                f"the wake-up was lost: the second event waits for the {POLL_S:.0f}s poll")
            assert publisher.published == ["test.first", "test.second"]

    asyncio.run(scenario())


@pytest.mark.timeout(60)
def test_handed_over_events_are_published_once_without_a_pass(scratch_database: str) -> None:
    async def scenario() -> None:
        async with _relay(scratch_database) as (relay, publisher, pool):
            publisher.gate.set()
            await asyncio.sleep(0.5)  # the LISTEN connection is up, the first pass is over
            passes = 0
            real_pass = relay.publish_pending

            async def counted_pass() -> int:
                nonlocal passes
                passes += 1
                return await real_pass()

            relay.publish_pending = counted_pass  # type: ignore[method-assign]
            with collecting() as fresh:
                row_id = await _add(pool, "test.handed")
            assert [event.event_type for event in fresh] == ["test.handed"]
            relay.hand_over(fresh)
            assert await _wait_published(pool, row_id, 5), (
                f"a handed-over event waits for the {POLL_S:.0f}s poll")
            await asyncio.sleep(0.5)  # its NOTIFY has arrived by now
            assert publisher.published == ["test.handed"]
            assert passes == 0, "the event's own NOTIFY started a pass that read it back"

    asyncio.run(scenario())


@pytest.mark.timeout(60)
def test_a_rolled_back_block_hands_over_nothing(scratch_database: str) -> None:
    async def scenario() -> None:
        async with _relay(scratch_database) as (_, publisher, pool):
            publisher.gate.set()
            await asyncio.sleep(0.5)
            with pytest.raises(RuntimeError), collecting() as fresh:
                async with pool.acquire() as conn, conn.transaction():
                    await add_event(conn, "test.rolled_back", {})
                    raise RuntimeError("the handler failed")
            assert len(fresh) == 1  # collected, but the block failed: its writer drops it
            kept = await _add(pool, "test.kept")  # outside a block: the NOTIFY wakes the relay
            assert await _wait_published(pool, kept, 5)
            assert publisher.published == ["test.kept"]
            assert await pool.fetchval("SELECT count(*) FROM outbox") == 1

    asyncio.run(scenario())
