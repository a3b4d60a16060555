"""The saga's broker objects: one topic exchange, one queue per consuming service, and for
each queue its retry queues (one per backoff level) and its dead-letter queue.

Every service declares all of it (declarations are idempotent and identical), so an event
published before its consumer ever started is queued, not dropped.

The exchange's alternate exchange `crashcart.unroutable` (fanout) catches every event that
no queue is bound for (a mistyped routing key, an event nobody consumes): it is kept in the
durable queue `crashcart.unroutable` and raises the alarm in every service (svckit.unroutable).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractConnection, AbstractExchange
from pamqp.common import FieldTable

from svckit.settings import ServiceSettings


@dataclass(frozen=True, slots=True)
class QueueSpec:
    name: str
    bindings: tuple[str, ...]


SAGA_QUEUES: dict[str, QueueSpec] = {
    "product": QueueSpec("product.saga", ("order.created", "order.paid", "order.payment_failed",
                                          "order.expired")),
    "order": QueueSpec("order.saga", ("inventory.rejected", "payment.completed")),
    "payment": QueueSpec("payment.saga", ("inventory.reserved", "inventory.expired")),
}

UNROUTABLE = "crashcart.unroutable"
"""The alternate exchange of the events exchange, and the durable queue that keeps what
reached it (read by the harness's invariants; never consumed by the platform)."""

log = logging.getLogger("svckit.topology")

STALE_BINDINGS: dict[str, tuple[str, ...]] = {"payment.saga": ("order.expired",)}
"""Bindings an earlier version declared: removed on declare (bindings outlive a release)."""

RETRY_LEVELS = 6
"""Retry queues per consumer queue; level n holds a message base*2^(n-1) ms."""


def retry_queue(queue: str, level: int) -> str:
    return f"{queue}.retry.{level}"


def dead_letter_queue(queue: str) -> str:
    return f"{queue}.dlq"


def retry_delay_ms(settings: ServiceSettings, level: int) -> int:
    return settings.consumer_retry_base_ms * 2 ** (level - 1)


def events_exchange_arguments() -> FieldTable:
    return {"alternate-exchange": UNROUTABLE}


async def upgrade_events_exchange(connection: AbstractConnection, settings: ServiceSettings
                                  ) -> None:
    """Give an events exchange declared before the alternate exchange existed its new
    arguments: RabbitMQ refuses a re-declaration with other arguments, so the old exchange
    is deleted (its bindings go with it) and the caller declares everything again."""
    probe = await connection.channel()
    try:
        await probe.declare_exchange(settings.events_exchange, aio_pika.ExchangeType.TOPIC,
                                     durable=True, arguments=events_exchange_arguments())
        await probe.close()
        return
    except aio_pika.exceptions.ChannelPreconditionFailed:
        log.warning("events exchange %s lacks its alternate exchange; re-declaring it",
                    settings.events_exchange)
    fixer = await connection.channel()
    try:
        await fixer.exchange_delete(settings.events_exchange)
    finally:
        await fixer.close()


async def declare_saga_topology(channel: AbstractChannel, settings: ServiceSettings
                                ) -> AbstractExchange:
    unroutable = await channel.declare_exchange(UNROUTABLE, aio_pika.ExchangeType.FANOUT,
                                                durable=True)
    kept = await channel.declare_queue(UNROUTABLE, durable=True)
    await kept.bind(unroutable)
    exchange = await channel.declare_exchange(
        settings.events_exchange, aio_pika.ExchangeType.TOPIC, durable=True,
        arguments=events_exchange_arguments(),
    )
    for spec in SAGA_QUEUES.values():
        queue = await channel.declare_queue(spec.name, durable=True)
        for key in spec.bindings:
            await queue.bind(exchange, routing_key=key)
        for key in STALE_BINDINGS.get(spec.name, ()):
            await queue.unbind(exchange, routing_key=key)
        for level in range(1, RETRY_LEVELS + 1):
            # Expired messages dead-letter back to the main queue through the default exchange.
            await channel.declare_queue(
                retry_queue(spec.name, level),
                durable=True,
                arguments={
                    "x-message-ttl": retry_delay_ms(settings, level),
                    "x-dead-letter-exchange": "",
                    "x-dead-letter-routing-key": spec.name,
                },
            )
        await channel.declare_queue(dead_letter_queue(spec.name), durable=True)
    return exchange
