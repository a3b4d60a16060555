"""Which outbox writes NOTIFY, on a real database: an event its writer hands over to the
relay (written inside `collecting()`) is stored without a NOTIFY, since its own relay needs
no waking and another process's relay would only publish it twice; any other write NOTIFYs
with its event id, so a relay publishes it at once instead of at its next poll. Both
writers are covered: `add_event` and order-service's one-statement `create_order`.
"""
from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import asyncpg
import pytest
from order_service import repository
from svckit.db import create_pool, ensure_database
from svckit.migrations import apply_migrations, load_migrations
from svckit.outbox import NOTIFY_CHANNEL, OutboxEvent, add_event, collecting
from svckit.settings import ServiceSettings

Write = Callable[[asyncpg.Pool], Awaitable[Any]]
MARKER = "marker"


@dataclass
class Outcome:
    result: Any = None
    notified: list[str] = field(default_factory=list)
    """NOTIFY payloads the write caused."""
    stored: list[asyncpg.Record] = field(default_factory=list)
    """The outbox rows it wrote (event_id, payload)."""
    collected: list[OutboxEvent] = field(default_factory=list)


async def _write_and_listen(dsn: str, write: Write, *, handed_over: bool) -> Outcome:
    await ensure_database(dsn, timeout=5)
    conn = await asyncpg.connect(dsn)
    try:
        await apply_migrations(conn, load_migrations("svckit", "order_service"))
    finally:
        await conn.close()
    pool = await create_pool(ServiceSettings(  # type: ignore[call-arg]
        service_name="order", database_url=dsn))
    listener = await asyncpg.connect(dsn)
    heard: list[str] = []
    await listener.add_listener(NOTIFY_CHANNEL, lambda *args: heard.append(args[3]))
    outcome = Outcome()
    try:
        with collecting() if handed_over else contextlib.nullcontext([]) as collected:
            outcome.result = await write(pool)
        outcome.collected = list(collected)
        await pool.execute(f"NOTIFY {NOTIFY_CHANNEL}, '{MARKER}'")  # arrives after the write's
        for _ in range(200):
            if heard[-1:] == [MARKER]:
                break
            await asyncio.sleep(0.02)
        assert heard[-1:] == [MARKER], "the listener heard nothing at all"
        outcome.notified = heard[:-1]
        outcome.stored = list(await pool.fetch("SELECT event_id, payload FROM outbox ORDER BY id"))
        return outcome
    finally:
        await listener.close()
        await pool.close()


async def _add_event(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn, conn.transaction():
        await add_event(conn, "unit.happened", {"n": 1})


async def _create_order(pool: asyncpg.Pool) -> dict[str, Any]:
    return await repository.create_order(
        pool, user_id=7, key="notify-test", request_hash="h",
        lines=[repository.PricedLine(1, 2, Decimal("9.99"))], currency="EUR",
        payment_token="tok_visa")


HANDED_OVER = pytest.mark.parametrize("handed_over", [True, False],
                                      ids=["handed-over", "not-collected"])


@pytest.mark.parametrize("write", [_add_event, _create_order], ids=["add_event", "create_order"])
@HANDED_OVER
def test_an_outbox_write_notifies_only_when_nobody_hands_it_over(
        scratch_database: str, write: Write, handed_over: bool) -> None:
    outcome = asyncio.run(_write_and_listen(scratch_database, write, handed_over=handed_over))
    assert len(outcome.stored) == 1, "the outbox row was not written"
    assert outcome.notified == ([] if handed_over else [str(outcome.stored[0]["event_id"])])
    assert len(outcome.collected) == (1 if handed_over else 0)


@HANDED_OVER
def test_a_created_orders_event_carries_the_generated_order_id(scratch_database: str,
                                                               handed_over: bool) -> None:
    outcome = asyncio.run(_write_and_listen(scratch_database, _create_order,
                                            handed_over=handed_over))
    order = outcome.result
    assert "notified" not in order
    assert outcome.stored[0]["payload"]["order_id"] == order["id"]
    assert [e.payload["order_id"] for e in outcome.collected] == (
        [order["id"]] if handed_over else [])
