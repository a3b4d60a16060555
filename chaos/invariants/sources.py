"""Direct reads of the services' databases and the broker — never through the mesh.

The invariants judge the platform by its own records, so they must not depend on the links
the experiment is breaking: PostgreSQL and RabbitMQ are reached at the topology's
``[postgres]`` / ``[rabbitmq]`` addresses, not at any ``<svc>_to_db`` / ``_to_broker`` proxy.
Each call opens and closes its own connection (no state kept between checks).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

import aio_pika
import aiormq
import asyncpg
import orjson

from chaos.topology import Topology

SAGA_CONSUMERS = ("product", "order", "payment")
"""Services with a saga queue ``<svc>.saga`` (+ ``.retry.N``, ``.dlq``): the interface contract."""
RETRY_LEVELS = 6
UNROUTABLE_QUEUE = "crashcart.unroutable"


class MissingSource(RuntimeError):
    """A table or queue the invariant reads does not exist (itself a finding)."""


@dataclass(slots=True)
class QueuedMessage:
    queue: str
    message_id: str
    event_type: str
    routing_key: str
    headers: dict[str, Any]
    payload: dict[str, Any] = field(default_factory=dict)

    @property
    def order_id(self) -> int | None:
        value = self.payload.get("order_id")
        return int(value) if isinstance(value, int | str) and str(value).isdigit() else None

    def describe(self) -> str:
        reason = self.headers.get("x-death-reason", "")
        if isinstance(reason, bytes):
            reason = reason.decode("utf-8", "replace")
        order = f" order {self.order_id}" if self.order_id is not None else ""
        why = f" ({str(reason)[:160]})" if reason else ""
        return f"{self.queue}: {self.event_type or self.routing_key} {self.message_id}{order}{why}"


class Sources:
    def __init__(self, topology: Topology) -> None:
        self.topology = topology

    # ---- databases -----------------------------------------------------------------------
    def database(self, service: str) -> str:
        return self.topology.service(service).database

    def rows(self, service: str, sql: str, *args: Any) -> list[dict[str, Any]]:
        """Run one read-only statement on ``service``'s database (direct connection)."""
        return asyncio.run(self._rows(self.database(service), sql, args))

    async def _rows(self, database: str, sql: str, args: tuple[Any, ...]) -> list[dict[str, Any]]:
        pg = self.topology.postgres
        conn = await connect_direct(pg.url(database, host=pg.host, port=pg.port))
        try:
            return [dict(r) for r in await conn.fetch(sql, *args, timeout=20)]
        except asyncpg.UndefinedTableError as exc:
            raise MissingSource(f"{database}: {exc}") from None
        except asyncpg.UndefinedColumnError as exc:
            raise MissingSource(f"{database}: {exc}") from None
        finally:
            await conn.close()

    # ---- broker --------------------------------------------------------------------------
    def _amqp_url(self) -> str:
        rabbit = self.topology.rabbitmq
        return rabbit.url(host=rabbit.host, port=rabbit.port)

    def queue_depth(self, queue: str) -> int | None:
        """Ready messages in ``queue``; ``None`` when the queue does not exist."""
        return asyncio.run(self._depths([queue]))[queue]

    def queue_depths(self, queues: list[str]) -> dict[str, int | None]:
        return asyncio.run(self._depths(queues))

    async def _depths(self, queues: list[str]) -> dict[str, int | None]:
        result: dict[str, int | None] = {}
        connection = await aio_pika.connect(self._amqp_url(), timeout=10)
        try:
            for name in queues:
                channel = await connection.channel()
                try:
                    queue = await channel.declare_queue(name, passive=True)
                    result[name] = int(queue.declaration_result.message_count or 0)
                except (aiormq.exceptions.ChannelNotFoundEntity,
                        aio_pika.exceptions.ChannelClosed):
                    result[name] = None
                finally:
                    if not channel.is_closed:
                        await channel.close()
        finally:
            await connection.close()
        return result

    def peek(self, queue: str, *, limit: int = 500) -> list[QueuedMessage] | None:
        """The messages in ``queue`` (left in place, in order); ``None`` if it does not exist."""
        return asyncio.run(self._peek(queue, limit))

    async def _peek(self, name: str, limit: int) -> list[QueuedMessage] | None:
        connection = await aio_pika.connect(self._amqp_url(), timeout=10)
        try:
            channel = await connection.channel()
            try:
                queue = await channel.declare_queue(name, passive=True)
            except (aiormq.exceptions.ChannelNotFoundEntity, aio_pika.exceptions.ChannelClosed):
                return None
            found: list[QueuedMessage] = []
            while len(found) < limit:
                message = await queue.get(no_ack=False, fail=False, timeout=5)
                if message is None:
                    break
                found.append(_queued(name, message))
            # Closing the channel returns every unacknowledged message to the queue.
            await channel.close()
            return found
        finally:
            await connection.close()


async def connect_direct(url: str, *, patience_s: float = 60.0) -> asyncpg.Connection:
    """Connect, waiting out a full server ("too many clients": a shared, busy PostgreSQL)."""
    deadline = time.monotonic() + patience_s
    while True:
        try:
            return await asyncpg.connect(url, timeout=10)
        except asyncpg.TooManyConnectionsError:
            if time.monotonic() >= deadline:
                raise
            await asyncio.sleep(0.5)


def _queued(queue: str, message: aio_pika.abc.AbstractIncomingMessage) -> QueuedMessage:
    try:
        payload = orjson.loads(message.body)
    except orjson.JSONDecodeError:
        payload = {}
    return QueuedMessage(queue=queue, message_id=str(message.message_id or ""),
                         event_type=str(message.type or ""),
                         routing_key=str(message.routing_key or ""),
                         headers=dict(message.headers or {}),
                         payload=payload if isinstance(payload, dict) else {})


def dead_letter_queues() -> list[str]:
    return [f"{svc}.saga.dlq" for svc in SAGA_CONSUMERS]


def work_queues() -> list[str]:
    """Every saga queue a backlog can sit in: main queues and their retry levels."""
    names = []
    for svc in SAGA_CONSUMERS:
        names.append(f"{svc}.saga")
        names.extend(f"{svc}.saga.retry.{level}" for level in range(1, RETRY_LEVELS + 1))
    return names
