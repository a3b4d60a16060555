"""The saga's broker objects: one topic exchange, one queue per consuming service, and for
each queue its retry queues (one per backoff level) and its dead-letter queue.

Every service declares all of it (declarations are idempotent and identical), so an event
published before its consumer ever started is queued, not dropped.
"""

from __future__ import annotations

from dataclasses import dataclass

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractExchange

from svckit.settings import ServiceSettings


@dataclass(frozen=True, slots=True)
class QueueSpec:
    name: str
    bindings: tuple[str, ...]


SAGA_QUEUES: dict[str, QueueSpec] = {
    "product": QueueSpec("product.saga", ("order.created", "order.paid", "order.payment_failed")),
    "order": QueueSpec("order.saga", ("inventory.rejected", "payment.completed")),
    "payment": QueueSpec("payment.saga", ("inventory.reserved",)),
}

RETRY_LEVELS = 6
"""Retry queues per consumer queue; level n holds a message base*2^(n-1) ms."""


def retry_queue(queue: str, level: int) -> str:
    return f"{queue}.retry.{level}"


def dead_letter_queue(queue: str) -> str:
    return f"{queue}.dlq"


def retry_delay_ms(settings: ServiceSettings, level: int) -> int:
    return settings.consumer_retry_base_ms * 2 ** (level - 1)


async def declare_saga_topology(channel: AbstractChannel, settings: ServiceSettings
                                ) -> AbstractExchange:
    exchange = await channel.declare_exchange(
        settings.events_exchange, aio_pika.ExchangeType.TOPIC, durable=True
    )
    for spec in SAGA_QUEUES.values():
        queue = await channel.declare_queue(spec.name, durable=True)
        for key in spec.bindings:
            await queue.bind(exchange, routing_key=key)
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
