"""The alarm on unroutable events: every service watches the alternate exchange.

An event that reached `crashcart.unroutable` was published (and confirmed) but no queue was
bound for it, so no one will ever act on it. Each service binds its own exclusive queue to
the fanout alternate exchange and, for every such event, counts it in
`crashcart_unroutable_events_total{event}` and logs a WARNING; the durable queue
`crashcart.unroutable` keeps the events themselves for the harness to inspect.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aio_pika.abc import AbstractConnection, AbstractIncomingMessage

from svckit.metrics import UNROUTABLE_EVENTS
from svckit.topology import UNROUTABLE

log = logging.getLogger("svckit.unroutable")


async def watch_unroutable(connection: AbstractConnection) -> None:
    """Broker on-connect hook: consume a private copy of everything that was unroutable;
    a channel the broker closes is opened again while the connection lives."""
    channel = await connection.channel()

    def closed(*_: Any) -> None:
        if not connection.is_closed:
            asyncio.ensure_future(_watch_again(connection))

    channel.close_callbacks.add(closed)
    exchange = await channel.get_exchange(UNROUTABLE, ensure=True)
    queue = await channel.declare_queue("", exclusive=True, auto_delete=True)
    await queue.bind(exchange)
    await queue.consume(_alarm, no_ack=True)


async def _watch_again(connection: AbstractConnection) -> None:
    await asyncio.sleep(1.0)
    if connection.is_closed:
        return  # the broker's reconnect loop watches again on the next connection
    try:
        await watch_unroutable(connection)
    except Exception as exc:  # its channel's close callback schedules the next try
        log.warning("could not watch %s again (%r)", UNROUTABLE, exc)


async def _alarm(message: AbstractIncomingMessage) -> None:
    event = message.type or message.routing_key or "?"
    UNROUTABLE_EVENTS.labels(event).inc()
    log.warning("unroutable event %s (id %s, routing key %r): no queue is bound for it",
                event, message.message_id, message.routing_key)
