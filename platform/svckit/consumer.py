"""Saga consumer: inbox dedupe, ack after commit, retry with backoff, dead-letter poison.

For each message: in ONE transaction, record its event id in `inbox` (a duplicate is a no-op)
and run the handler (which may add outbox events); only after the commit is the message
acknowledged. A `TwoPhase` handler first runs a step outside any transaction (an external
call such as the card processor, which must be idempotent: it runs again on a retry), so no
database connection or lock is held while waiting for it. A failing handler sends the message to the retry queue of its attempt level
(the queue's TTL is the backoff; it then flows back to the main queue) with the attempt
counter in the `x-attempt` header. After `CONSUMER_MAX_ATTEMPTS` attempts the message is
parked in `<queue>.dlq`. Infrastructure loss (database down) is retried without limit: it is
not the message's fault.

At most `CONSUMER_CONCURRENCY` deliveries of a service use the database at once (a
semaphore shared by its consumers), below the pool size, so a backlog never starves the
HTTP API of connections. A channel the broker closes (or a consumer it cancels) is
re-opened by the consumer itself; readiness reports `consumers` down meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aio_pika
import asyncpg
import orjson
from aio_pika.abc import AbstractChannel, AbstractConnection, AbstractIncomingMessage

from svckit.metrics import CONSUMED, CONSUMER_RETRIES, DEAD_LETTERED
from svckit.outbox import OutboxEvent, collecting, insert_statement, written_at_commit
from svckit.problems import is_db_unavailable
from svckit.request_id import HEADER as REQUEST_ID_HEADER
from svckit.request_id import accept_request_id, request_id_var
from svckit.settings import ServiceSettings
from svckit.simple_query import quote_literal
from svckit.topology import RETRY_LEVELS, QueueSpec, dead_letter_queue, retry_queue

log = logging.getLogger("svckit.consumer")


@dataclass(frozen=True, slots=True)
class Event:
    event_id: str
    event_type: str
    payload: dict[str, Any]
    attempt: int


Handler = Callable[[asyncpg.Connection, Event], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class TwoPhase:
    """A handler with a pre-transaction step: `prepare(event)` runs with no connection held
    (it must be idempotent), then `apply(conn, event, prepared)` runs in the inbox
    transaction with what `prepare` returned."""

    prepare: Callable[[Event], Awaitable[Any]]
    apply: Callable[[asyncpg.Connection, Event, Any], Awaitable[None]]


REOPEN_DELAY_S = (1.0, 1.0, 2.0)
"""Waits before re-opening a closed channel: short, yet long enough for readiness to show it."""


class PoisonMessage(Exception):
    """The message can never be processed (undecodable, unknown type, bad payload)."""


class Consumer:
    def __init__(
        self,
        spec: QueueSpec,
        handlers: dict[str, Handler | TwoPhase],
        pool: asyncpg.Pool,
        settings: ServiceSettings,
        after_commit: Callable[[list[OutboxEvent]], None] | None = None,
        limiter: asyncio.Semaphore | None = None,
    ) -> None:
        self.spec = spec
        self.handlers = handlers
        self.pool = pool
        self.settings = settings
        self.after_commit = after_commit
        """Called with the events the delivery's transaction committed (the relay's
        `hand_over`)."""
        self.limiter = limiter or asyncio.Semaphore(settings.consumer_slots)
        """Bounds the deliveries using the database at once (the app shares one per service)."""
        self._channel: AbstractChannel | None = None
        self._connection: AbstractConnection | None = None
        self._consuming = False
        self._reopen_task: asyncio.Task[None] | None = None

    @property
    def is_consuming(self) -> bool:
        """True while the channel is open and the queue consumed (readiness reads it)."""
        channel = self._channel
        return self._consuming and channel is not None and not channel.is_closed

    async def start(self, connection: AbstractConnection) -> None:
        """Broker on-connect hook: open a channel and consume the queue."""
        self._connection = connection
        await self._open(connection)

    async def _open(self, connection: AbstractConnection) -> None:
        channel = await connection.channel(publisher_confirms=True)
        await channel.set_qos(prefetch_count=self.settings.consumer_prefetch)
        queue = await channel.get_queue(self.spec.name, ensure=True)
        channel.close_callbacks.add(self._on_channel_closed)
        underlay = await channel.get_underlay_channel()
        underlay.on_consumer_cancel_callbacks.add(self._on_consumer_cancelled)
        self._channel = channel
        await queue.consume(self._on_message)
        self._consuming = True
        log.info("consuming %s", self.spec.name)

    def _on_channel_closed(self, closed: Any, exc: BaseException | None = None) -> None:
        current = self._channel
        if current is not None and closed is not current and not current.is_closed:
            return  # a channel of a failed re-open attempt; the current one is fine
        self._consuming = False
        connection = self._connection
        if connection is None or connection.is_closed:
            return  # the broker's reconnect loop starts everything again
        log.warning("channel of %s closed (%r); re-opening it", self.spec.name, exc)
        self._schedule_reopen(connection)

    def _on_consumer_cancelled(self, _: Any) -> None:
        """The broker cancelled our consumer (e.g. the queue was deleted): start over."""
        self._consuming = False
        log.warning("consumer of %s cancelled by the broker; re-opening", self.spec.name)
        channel = self._channel
        if channel is not None and not channel.is_closed:
            asyncio.ensure_future(_close_quietly(channel))
        elif self._connection is not None:
            self._schedule_reopen(self._connection)

    def _schedule_reopen(self, connection: AbstractConnection) -> None:
        if self._reopen_task is None or self._reopen_task.done():
            self._reopen_task = asyncio.create_task(self._reopen(connection),
                                                    name=f"reopen-{self.spec.name}")

    async def _reopen(self, connection: AbstractConnection) -> None:
        attempt = 0
        while not connection.is_closed and connection is self._connection:
            await asyncio.sleep(REOPEN_DELAY_S[min(attempt, len(REOPEN_DELAY_S) - 1)])
            attempt += 1
            try:
                await self._open(connection)
                return
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("re-opening %s failed (%r); retrying", self.spec.name, exc)

    async def _on_message(self, message: AbstractIncomingMessage) -> None:
        headers = message.headers or {}
        token = request_id_var.set(accept_request_id(_text(headers.get(REQUEST_ID_HEADER))))
        try:
            await self._process(message, headers)
        finally:
            request_id_var.reset(token)

    async def _process(self, message: AbstractIncomingMessage, headers: dict[str, Any]) -> None:
        attempt = _int(headers.get("x-attempt"), 1)
        try:
            event = self._decode(message, attempt)
            if event.event_type not in self.handlers:
                raise PoisonMessage(f"no handler for {event.event_type!r}")
        except PoisonMessage as exc:
            await self._dead_letter(message, attempt, f"undeliverable: {exc!r}")
            return
        try:
            with collecting() as fresh:
                duplicate = await self.deliver(event)
        except Exception as exc:
            transient = is_db_unavailable(exc)
            exhausted = not transient and attempt >= self.settings.consumer_max_attempts
            if isinstance(exc, PoisonMessage) or exhausted:
                log.error("handler failed for %s %s on attempt %d: %r", event.event_type,
                          event.event_id, attempt, exc, exc_info=not transient)
                await self._dead_letter(message, attempt, repr(exc))
            else:
                log.warning("handler failed for %s %s on attempt %d (%r); retrying",
                            event.event_type, event.event_id, attempt, exc)
                await self._retry(message, attempt)
            return
        await message.ack()
        CONSUMED.labels(self.spec.name, "duplicate" if duplicate else "processed").inc()
        if self.after_commit is not None:
            self.after_commit(fresh)

    def _decode(self, message: AbstractIncomingMessage, attempt: int) -> Event:
        try:
            payload = orjson.loads(message.body)
        except orjson.JSONDecodeError as exc:
            raise PoisonMessage("body is not JSON") from exc
        if not isinstance(payload, dict):
            raise PoisonMessage("body is not a JSON object")
        event_type = message.type or message.routing_key or ""
        event_id = message.message_id or hashlib.sha256(
            event_type.encode() + b"\0" + message.body).hexdigest()
        if "\x00" in event_id:
            raise PoisonMessage("the message id holds a NUL character (no inbox can record it)")
        return Event(event_id=event_id, event_type=event_type, payload=payload, attempt=attempt)

    async def deliver(self, event: Event) -> bool:
        """Everything the queue callback does for one decoded event except the AMQP
        ack/retry: the optional pre-transaction step, then inbox dedupe and the handler in
        one transaction. True when the event was a duplicate; raises when the handler fails
        (`PoisonMessage` for a payload it can never process)."""
        handler = self.handlers.get(event.event_type)
        if handler is None:
            raise PoisonMessage(f"no handler for {event.event_type!r}")
        if not isinstance(handler, TwoPhase):
            return await self._in_transaction(event, handler)
        # No inbox look-up first: `prepare` is idempotent, so a duplicate costs one more
        # idempotent step, and the inbox insert below still detects it (a first delivery,
        # the usual case, saves a round trip).
        try:
            prepared = await handler.prepare(event)
        except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
            raise PoisonMessage(f"bad payload: {exc!r}") from exc

        async def apply(conn: asyncpg.Connection, event: Event) -> None:
            await handler.apply(conn, event, prepared)

        return await self._in_transaction(event, apply)

    async def _in_transaction(self, event: Event, handler: Handler) -> bool:
        """Run the handler with the inbox row in one transaction; True if already seen.

        The transaction is begun by the statement that records the inbox row, and the
        handler's outbox events are written by the statement that commits it (one round
        trip each instead of two: `svckit.simple_query`), so it is ended here too: COMMIT
        after the handler, ROLLBACK when anything fails (asyncpg's `transaction()` would
        send its own BEGIN, and refuses to nest in this one: a handler must not start one)."""
        async with self.limiter, self.pool.acquire() as conn:
            try:
                fresh = await conn.execute(self._begin_and_record(event)) == "INSERT 0 1"
                with written_at_commit() as outbox_rows:
                    if fresh:
                        await _apply(handler, conn, event)
                    else:
                        log.info("duplicate %s %s ignored", event.event_type, event.event_id)
                if await conn.execute(insert_statement(outbox_rows) + "COMMIT") != "COMMIT":
                    # A statement failed and the handler went on: the server rolled back.
                    raise RuntimeError(f"{event.event_type} {event.event_id}: not committed")
            except BaseException:
                await _roll_back(conn)
                raise
        return not fresh

    def _begin_and_record(self, event: Event) -> str:
        values = ", ".join(map(quote_literal, (event.event_id, event.event_type, self.spec.name)))
        return ("BEGIN; INSERT INTO inbox (event_id, event_type, queue)"
                f" VALUES ({values})"
                " ON CONFLICT (event_id) DO NOTHING")

    async def _republish(self, message: AbstractIncomingMessage, queue: str,
                         extra_headers: dict[str, Any]) -> None:
        assert self._channel is not None
        copy = aio_pika.Message(
            body=message.body,
            content_type=message.content_type,
            message_id=message.message_id,
            type=message.type or message.routing_key,
            timestamp=message.timestamp,
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            headers={**(message.headers or {}), **extra_headers},
        )
        await self._channel.default_exchange.publish(copy, routing_key=queue, timeout=5)

    async def _retry(self, message: AbstractIncomingMessage, attempt: int) -> None:
        level = min(attempt, RETRY_LEVELS)
        try:
            await self._republish(message, retry_queue(self.spec.name, level),
                                  {"x-attempt": attempt + 1})
        except Exception as exc:
            log.warning("could not schedule retry (%r); requeueing", exc)
            with contextlib.suppress(Exception):
                await message.nack(requeue=True)
            return
        await message.ack()
        CONSUMER_RETRIES.labels(self.spec.name).inc()
        CONSUMED.labels(self.spec.name, "retried").inc()

    async def _dead_letter(self, message: AbstractIncomingMessage, attempt: int,
                           reason: str) -> None:
        try:
            await self._republish(message, dead_letter_queue(self.spec.name),
                                  {"x-attempt": attempt, "x-death-reason": reason[:500]})
        except Exception as exc:
            log.warning("could not dead-letter (%r); requeueing", exc)
            with contextlib.suppress(Exception):
                await message.nack(requeue=True)
            return
        await message.ack()
        DEAD_LETTERED.labels(self.spec.name).inc()
        CONSUMED.labels(self.spec.name, "dead_lettered").inc()
        log.error("dead-lettered message %s: %s", message.message_id, reason)


async def _apply(handler: Handler, conn: asyncpg.Connection, event: Event) -> None:
    """Run a handler; the errors a malformed payload raises make the message poison."""
    try:
        await handler(conn, event)
    except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
        raise PoisonMessage(f"bad payload: {exc!r}") from exc


async def _roll_back(conn: asyncpg.Connection) -> None:
    """End a failed (or interrupted) consumer transaction. Sent whatever the client thinks
    the state is (after a cancelled BEGIN the server may be inside the transaction; with
    none open, ROLLBACK is only a warning); a connection that cannot roll back is closed,
    so it never goes back to the pool inside a transaction."""
    if conn.is_closed():
        return
    try:
        await conn.execute("ROLLBACK")
    except Exception:
        conn.terminate()  # the caller raises the error that made it roll back
    except BaseException:
        conn.terminate()
        raise


async def _close_quietly(channel: AbstractChannel) -> None:
    with contextlib.suppress(Exception):
        await asyncio.wait_for(channel.close(), 3)


def _text(value: Any) -> str | None:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value if isinstance(value, str) else None


def _int(value: Any, default: int) -> int:
    try:
        return max(1, int(value))
    except (TypeError, ValueError):
        return default
