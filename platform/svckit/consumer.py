"""Saga consumer: inbox dedupe, ack after commit, retry with backoff, dead-letter poison.

For each message: in ONE transaction, record its event id in `inbox` (a duplicate is a no-op)
and run the handler (which may add outbox events); only after the commit is the message
acknowledged. A failing handler sends the message to the retry queue of its attempt level
(the queue's TTL is the backoff; it then flows back to the main queue) with the attempt
counter in the `x-attempt` header. After `CONSUMER_MAX_ATTEMPTS` attempts the message is
parked in `<queue>.dlq`. Infrastructure loss (database down) is retried without limit: it is
not the message's fault.
"""

from __future__ import annotations

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
from svckit.problems import is_db_unavailable
from svckit.request_id import HEADER as REQUEST_ID_HEADER
from svckit.request_id import accept_request_id, request_id_var
from svckit.settings import ServiceSettings
from svckit.topology import RETRY_LEVELS, QueueSpec, dead_letter_queue, retry_queue

log = logging.getLogger("svckit.consumer")


@dataclass(frozen=True, slots=True)
class Event:
    event_id: str
    event_type: str
    payload: dict[str, Any]
    attempt: int


Handler = Callable[[asyncpg.Connection, Event], Awaitable[None]]


class PoisonMessage(Exception):
    """The message can never be processed (undecodable, unknown type, bad payload)."""


class Consumer:
    def __init__(
        self,
        spec: QueueSpec,
        handlers: dict[str, Handler],
        pool: asyncpg.Pool,
        settings: ServiceSettings,
        after_commit: Callable[[], None] | None = None,
    ) -> None:
        self.spec = spec
        self.handlers = handlers
        self.pool = pool
        self.settings = settings
        self.after_commit = after_commit
        self._channel: AbstractChannel | None = None

    async def start(self, connection: AbstractConnection) -> None:
        """Broker on-connect hook: open a channel and consume the queue."""
        channel = await connection.channel(publisher_confirms=True)
        await channel.set_qos(prefetch_count=self.settings.consumer_prefetch)
        queue = await channel.get_queue(self.spec.name, ensure=True)
        self._channel = channel
        await queue.consume(self._on_message)
        log.info("consuming %s", self.spec.name)

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
            handler = self.handlers[event.event_type]
        except (PoisonMessage, KeyError) as exc:
            await self._dead_letter(message, attempt, f"undeliverable: {exc!r}")
            return
        try:
            duplicate = await self._handle(event, handler)
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
            self.after_commit()

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
        return Event(event_id=event_id, event_type=event_type, payload=payload, attempt=attempt)

    async def _handle(self, event: Event, handler: Handler) -> bool:
        """Run the handler with the inbox row in one transaction; True if already seen."""
        async with self.pool.acquire() as conn, conn.transaction():
            fresh = await conn.fetchval(
                "INSERT INTO inbox (event_id, event_type, queue) VALUES ($1, $2, $3)"
                " ON CONFLICT (event_id) DO NOTHING RETURNING true",
                event.event_id, event.event_type, self.spec.name,
            )
            if not fresh:
                log.info("duplicate %s %s ignored", event.event_type, event.event_id)
                return True
            try:
                await handler(conn, event)
            except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
                raise PoisonMessage(f"bad payload: {exc!r}") from exc
        return False

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


def _text(value: Any) -> str | None:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value if isinstance(value, str) else None


def _int(value: Any, default: int) -> int:
    try:
        return max(1, int(value))
    except (TypeError, ValueError):
        return default
