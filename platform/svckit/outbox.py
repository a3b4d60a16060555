"""Transactional outbox: write events with the state change, publish them afterwards.

`add_event` inserts into `outbox` on the caller's connection, inside the caller's
transaction, and NOTIFYs at commit. `OutboxRelay` publishes pending rows with publisher
confirms and marks them published only after the broker confirmed — at-least-once delivery
(consumers dedupe by event id). It wakes on NOTIFY, on `wake()` or on a short poll, and simply
waits while the broker is unreachable, so accepted work is never lost.

A pass reads a batch, gives its connection back, publishes and waits for the confirms with
no connection, transaction or row lock held, then marks the confirmed rows in a short
statement of its own. The wake-up flag is cleared before a pass, so a NOTIFY that arrives
during the pass starts the next one at once.

The usual path skips the read: a writer that records its events inside `collecting()` (the
saga consumers, order-service's POST) hands them to `hand_over` once its transaction has
committed; the relay publishes them from memory and marks the confirmed ones in one
statement per `MARK_EVERY_S`, and a pass leaves rows being handed over alone. Events whose
writer fails after its commit, or that the broker does not confirm, stay pending for the
pass (at the next poll, or at once when the hand-over found the broker down). A handed-over
event is written without a NOTIFY: its own relay does not need waking, and another
process's relay woken by it would only publish it a second time. Any other writer's row
NOTIFYs with its event id, and wakes the relay unless a pass already read that row. One
relay runs per service process; a second process would at worst publish a row twice, which
the consumers' inbox absorbs.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import contextvars
import logging
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

import aio_pika
import asyncpg
import orjson

from svckit.broker import Broker
from svckit.metrics import OUTBOX_BACKLOG, OUTBOX_PUBLISHED
from svckit.request_id import HEADER as REQUEST_ID_HEADER
from svckit.request_id import current_request_id
from svckit.settings import ServiceSettings
from svckit.simple_query import quote_literal

log = logging.getLogger("svckit.outbox")
T = TypeVar("T")
NOTIFY_CHANNEL = "svckit_outbox"
BATCH = 100
SEEN = 4 * BATCH
"""Event ids of the last rows read, kept to recognise their NOTIFYs (a bounded memory)."""
MARK_EVERY_S = 0.05
"""Handed-over events the broker confirmed are marked published together, one statement per
this interval rather than one per event: the mark only spares a later pass a duplicate
(which the consumers' inbox absorbs anyway), so it may wait a moment; until it is written a
pass leaves those rows alone."""


@dataclass(frozen=True, slots=True)
class OutboxEvent:
    """An outbox row as its writer knows it: enough to publish it without reading it back."""

    event_id: uuid.UUID
    event_type: str
    payload: dict[str, Any]
    headers: dict[str, Any]
    created_at: datetime


_collector: contextvars.ContextVar[list[OutboxEvent] | None] = contextvars.ContextVar(
    "svckit_outbox_collector", default=None)


@contextlib.contextmanager
def _gathered_in(var: contextvars.ContextVar[list[T] | None]) -> Iterator[list[T]]:
    """A fresh list in `var` for the block, the previous value back after it."""
    gathered: list[T] = []
    token = var.set(gathered)
    try:
        yield gathered
    finally:
        var.reset(token)


def collecting() -> contextlib.AbstractContextManager[list[OutboxEvent]]:
    """Collect the events recorded in this block (`add_event`, `collect`): once the block's
    transaction has committed, its writer hands them to `OutboxRelay.hand_over`, which
    publishes them without reading them back. Events of a block that fails are dropped
    here (their rows, if committed after all, are published by the relay's own pass)."""
    return _gathered_in(_collector)


def collect(event: OutboxEvent) -> bool:
    """Note an event about to be written by the caller's statement (`add_event` does this
    itself). True inside a `collecting()` block: its writer hands the event over, so the
    statement writes it without a NOTIFY; False outside one, where the statement must
    NOTIFY to wake the relay."""
    events = _collector.get()
    if events is None:
        return False
    events.append(event)
    return True


def _handed_over_here() -> bool:
    """Whether events written now are collected for their writer's hand-over."""
    return _collector.get() is not None


def event_headers() -> dict[str, Any]:
    """The AMQP headers an event recorded now carries (the current request's id)."""
    return {REQUEST_ID_HEADER: current_request_id() or ""}


_written_at_commit: contextvars.ContextVar[list[str] | None] = contextvars.ContextVar(
    "svckit_outbox_written_at_commit", default=None)


def written_at_commit() -> contextlib.AbstractContextManager[list[str]]:
    """For the owner of a transaction that ends with a simple-query COMMIT (the saga
    consumer): inside this block `add_event` only renders its events' outbox rows, and the
    owner sends `insert_statement(rows)` in front of its COMMIT, saving a round trip per
    event. (Rendered at once, so a payload that cannot be stored fails in its handler.)"""
    return _gathered_in(_written_at_commit)


_INSERT = "INSERT INTO outbox (event_id, event_type, payload, headers) VALUES"


def _notifying(insert: str, channel: str) -> str:
    """`insert` (of outbox rows) with a NOTIFY on `channel` (an SQL expression) per row,
    carrying the row's event id."""
    return (f"WITH added AS ({insert} RETURNING event_id)"
            f" SELECT pg_notify({channel}, event_id::text) FROM added")


async def add_event(conn: asyncpg.Connection, event_type: str, payload: dict[str, Any]
                    ) -> uuid.UUID:
    """Record an event to publish; call inside the transaction of the state change.

    A statement that writes its state change and its event at once (one round trip, see
    order-service's `create_order`) `collect`s the event and inserts the outbox row itself,
    with `event_headers()` and, when `collect` says nobody hands it over, a NOTIFY on
    `NOTIFY_CHANNEL` carrying the event id, as this does. Inside `written_at_commit()` the
    row is written later, with the transaction's COMMIT."""
    event_id = uuid.uuid4()
    headers = event_headers()
    event = OutboxEvent(event_id, event_type, payload, headers, datetime.now(UTC))
    handed_over = collect(event)
    deferred = _written_at_commit.get()
    if deferred is not None:
        deferred.append(_row_literal(event))
        return event_id
    insert = f"{_INSERT} ($1, $2, $3, $4)"
    if handed_over:
        await conn.execute(insert, event_id, event_type, payload, headers)
    else:  # one round trip: the NOTIFY rides on the INSERT (delivered at commit)
        await conn.execute(_notifying(insert, "$5"),
                           event_id, event_type, payload, headers, NOTIFY_CHANNEL)
    return event_id



def _row_literal(event: OutboxEvent) -> str:
    """An event's outbox row as a VALUES tuple of literals (`svckit.simple_query`)."""
    return (f"({quote_literal(str(event.event_id))}::uuid, {quote_literal(event.event_type)},"
            f" {quote_literal(orjson.dumps(event.payload).decode())}::jsonb,"
            f" {quote_literal(orjson.dumps(event.headers).decode())}::jsonb)")


def insert_statement(rows: list[str]) -> str:
    """The outbox rows `add_event` rendered inside `written_at_commit()` as one
    simple-query statement for the transaction's owner to send with its COMMIT (in the
    context the rows were rendered in: with their NOTIFYs unless they are collected for a
    hand-over, as `add_event`); empty for no rows."""
    if not rows:
        return ""
    insert = f"{_INSERT} {', '.join(rows)}"
    if _handed_over_here():
        return f"{insert}; "
    return f"{_notifying(insert, quote_literal(NOTIFY_CHANNEL))}; "


def build_message(event_id: uuid.UUID, event_type: str, payload: dict[str, Any],
                  headers: dict[str, Any], created_at: datetime | None = None) -> aio_pika.Message:
    """The AMQP message of an event (shared with contract tests: one serialiser)."""
    return aio_pika.Message(
        body=orjson.dumps(payload),
        content_type="application/json",
        message_id=str(event_id),
        type=event_type,
        timestamp=created_at or datetime.now(UTC),
        delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
        headers={**headers, "x-attempt": 1},
    )


class OutboxRelay:
    def __init__(self, pool: asyncpg.Pool, broker: Broker, settings: ServiceSettings) -> None:
        self.pool = pool
        self.broker = broker
        self.settings = settings
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._backlog_at = 0.0
        self._pruned_at = time.monotonic()
        self._seen: collections.OrderedDict[str, None] = collections.OrderedDict()
        self._handed: list[OutboxEvent] = []
        self._handed_ready = asyncio.Event()
        self._in_flight: set[uuid.UUID] = set()
        """Events the hand-over path is publishing or marking: a pass leaves their rows alone."""
        self._to_mark: list[OutboxEvent] = []
        self._to_mark_ready = asyncio.Event()

    def wake(self) -> None:
        self._wake.set()

    def hand_over(self, events: list[OutboxEvent]) -> None:
        """Committed events, straight from their writer: published without reading their
        rows back (written without a NOTIFY, they start no pass). With the broker down they
        are left to the pass, which publishes them once it is back."""
        if not events:
            return
        if not self.broker.is_ready:
            self.wake()
            return
        self._in_flight.update(event.event_id for event in events)
        self._handed.extend(events)
        self._handed_ready.set()

    def _notified(self, payload: str) -> None:
        """A commit somewhere added an outbox row: wake up unless a pass already read it."""
        if payload not in self._seen:
            self._wake.set()

    def _remember(self, rows: list[asyncpg.Record]) -> None:
        for row in rows:
            self._seen[str(row["event_id"])] = None
        self._trim_seen()

    def _trim_seen(self) -> None:
        while len(self._seen) > SEEN:
            self._seen.popitem(last=False)

    def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._run(), name="outbox-relay"),
            asyncio.create_task(self._listen(), name="outbox-listen"),
            asyncio.create_task(self._run_handed(), name="outbox-hand-over"),
            asyncio.create_task(self._run_marks(), name="outbox-marks"),
        ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        with contextlib.suppress(Exception):  # what is left unmarked is published again
            await asyncio.wait_for(self._mark_confirmed(), 2)

    async def _run(self) -> None:
        while True:
            # Before the pass, not after: a wake-up that arrives during it must not be lost.
            self._wake.clear()
            published = 0
            try:
                if self.broker.is_ready:
                    published = await self.publish_pending()
                await self._update_backlog()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("outbox relay pass failed (%s: %s)", type(exc).__name__, exc)
            if published >= BATCH:
                continue
            waits: list[asyncio.Future[Any]] = [asyncio.ensure_future(self._wake.wait())]
            if not self.broker.is_ready:
                waits.append(asyncio.ensure_future(self.broker.wait_ready()))
            _, pending = await asyncio.wait(waits, timeout=self.settings.outbox_poll_s,
                                            return_when=asyncio.FIRST_COMPLETED)
            for fut in pending:
                fut.cancel()

    async def _run_handed(self) -> None:
        while True:
            await self._handed_ready.wait()
            self._handed_ready.clear()
            events, self._handed = self._handed, []
            try:
                await self._publish_handed(events)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("outbox hand-over failed (%s: %s); the pass takes over",
                            type(exc).__name__, exc)
                self._in_flight.difference_update(event.event_id for event in events)
                self.wake()

    async def _publish_handed(self, events: list[OutboxEvent]) -> None:
        """Publish handed-over events; the confirmed ones wait for their mark, the others
        are left to the pass."""
        results = await asyncio.gather(*(
            self.broker.publish(build_message(e.event_id, e.event_type, e.payload, e.headers,
                                              e.created_at), routing_key=e.event_type)
            for e in events), return_exceptions=True)
        done: list[OutboxEvent] = []
        for event, result in zip(events, results, strict=True):
            if isinstance(result, BaseException):
                self._in_flight.discard(event.event_id)  # the pass publishes it
            else:
                done.append(event)
        if len(done) < len(events):
            self.wake()
        for event in done:
            OUTBOX_PUBLISHED.labels(event.event_type).inc()
        if done:
            self._to_mark.extend(done)
            self._to_mark_ready.set()

    async def _run_marks(self) -> None:
        while True:
            await self._to_mark_ready.wait()
            await asyncio.sleep(MARK_EVERY_S)  # let the marks of that moment gather
            self._to_mark_ready.clear()
            try:
                await self._mark_confirmed()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("outbox: marking published events failed (%s: %s); a pass "
                            "publishes them again", type(exc).__name__, exc)

    async def _mark_confirmed(self) -> None:
        marks, self._to_mark = self._to_mark, []
        if not marks:
            return
        try:
            await self.pool.execute(
                "UPDATE outbox SET published_at = now()"
                " WHERE event_id = ANY($1::uuid[]) AND published_at IS NULL",
                [e.event_id for e in marks])
        finally:
            self._in_flight.difference_update(e.event_id for e in marks)

    async def publish_pending(self) -> int:
        """Publish one batch; rows stay pending unless the broker confirmed them."""
        async with self.pool.acquire() as conn:
            rows = await conn.fetch(
                "SELECT id, event_id, event_type, payload, headers, created_at FROM outbox"
                " WHERE published_at IS NULL ORDER BY id LIMIT $1", BATCH,
            )
        rows = [row for row in rows if row["event_id"] not in self._in_flight]
        if not rows:
            return 0
        self._remember(rows)
        # No connection or lock is held while waiting (up to 5 s) for the confirms.
        results = await asyncio.gather(
            *(self._publish_row(row) for row in rows), return_exceptions=True
        )
        done = [row["id"] for row, ok in zip(rows, results, strict=False) if ok is True]
        failed = [r for r in results if r is not True]
        if failed:
            log.warning("outbox: %d of %d events not confirmed (%s)",
                        len(failed), len(rows), failed[0])
        if done:
            await self.pool.execute(
                "UPDATE outbox SET published_at = now()"
                " WHERE id = ANY($1::bigint[]) AND published_at IS NULL", done)
        for row, ok in zip(rows, results, strict=False):
            if ok is True:
                OUTBOX_PUBLISHED.labels(row["event_type"]).inc()
        return len(done)

    async def _publish_row(self, row: asyncpg.Record) -> bool:
        message = build_message(row["event_id"], row["event_type"], row["payload"],
                                row["headers"] or {}, row["created_at"])
        await self.broker.publish(message, routing_key=row["event_type"])
        return True

    async def _update_backlog(self) -> None:
        """Refresh the backlog gauge (at most twice a second) and prune old published rows."""
        now = time.monotonic()
        if now - self._backlog_at < 0.5:
            return
        self._backlog_at = now
        async with self.pool.acquire() as conn:
            count = await conn.fetchval("SELECT count(*) FROM outbox WHERE published_at IS NULL")
            if now - self._pruned_at > 60:
                self._pruned_at = now
                await conn.execute(
                    "DELETE FROM outbox WHERE published_at < now() - interval '1 hour'")
        OUTBOX_BACKLOG.set(count)

    async def _listen(self) -> None:
        """Keep a LISTEN connection so commits from any connection wake the relay at once."""
        while True:
            conn: asyncpg.Connection | None = None
            try:
                conn = await asyncpg.connect(self.settings.database_url,
                                             timeout=self.settings.db_connect_timeout_s)
                await conn.add_listener(NOTIFY_CHANNEL,
                                        lambda _c, _pid, _ch, payload: self._notified(payload))
                while not conn.is_closed():
                    await asyncio.sleep(5)
                    await conn.execute("SELECT 1", timeout=self.settings.db_command_timeout_s)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.debug("outbox listener reconnecting (%s)", exc)
            finally:
                if conn is not None:
                    with contextlib.suppress(Exception):
                        conn.terminate()
            await asyncio.sleep(2)
