"""Broker in the loop: the message pacts' examples published through RabbitMQ to a running
platform, where the consumers' real queues pick them up.

A message pact proves a handler accepts the example when it is handed over in-process; this
proves the same example survives the real path — the ``crashcart.events`` exchange, the
routing key, the queue binding, the consumer's decoding, inbox and retries. Examples are
taken from the pact files; only their ids are replaced with fresh ones (the platform is
shared state), everything else is the example as the consumer wrote it.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aio_pika
import asyncpg
from svckit.outbox import build_message
from svckit.request_id import HEADER as REQUEST_ID_HEADER

from chaos.topology import Topology
from contracts.pactkit import pact_files


@dataclass(frozen=True, slots=True)
class MessageExample:
    consumer: str
    provider: str
    description: str
    routing_key: str
    payload: dict[str, Any]

    @property
    def id(self) -> str:
        return f"{self.consumer}: {self.description}"


def message_examples(pacts: Path) -> list[MessageExample]:
    """Every asynchronous interaction of every pact file, as (routing key, example payload)."""
    found: list[MessageExample] = []
    for path in pact_files(pacts):
        doc = json.loads(path.read_text())
        for interaction in doc.get("interactions", []):
            if interaction.get("type") != "Asynchronous/Messages":
                continue
            content = (interaction.get("contents") or {}).get("content")
            payload = json.loads(content) if isinstance(content, str) else dict(content or {})
            found.append(MessageExample(
                consumer=doc["consumer"]["name"], provider=doc["provider"]["name"],
                description=interaction["description"],
                routing_key=str(interaction["metadata"]["routing_key"]), payload=payload))
    return found


def with_ids(payload: Any, **ids: int) -> Any:
    """The payload with every ``<key>`` named in ``ids`` (at any depth) set to its new value."""
    if isinstance(payload, dict):
        return {k: (ids[k] if k in ids else with_ids(v, **ids)) for k, v in payload.items()}
    if isinstance(payload, list):
        return [with_ids(v, **ids) for v in payload]
    return payload


def fresh_id() -> int:
    """An id no platform sequence will reach in a test's lifetime (and below 2**53)."""
    return 10**12 + uuid.uuid4().int % 10**12


async def _publish(url: str, exchange: str, routing_key: str, payload: dict[str, Any],
                   message_id: uuid.UUID, request_id: str) -> None:
    connection = await aio_pika.connect(url, timeout=10)
    try:
        channel = await connection.channel(publisher_confirms=True)
        target = await channel.get_exchange(exchange, ensure=True)
        message = build_message(message_id, routing_key, payload,
                                {REQUEST_ID_HEADER: request_id})
        await target.publish(message, routing_key=routing_key, mandatory=True, timeout=10)
    finally:
        await connection.close()


def publish(topology: Topology, routing_key: str, payload: dict[str, Any], *,
            message_id: uuid.UUID | None = None, request_id: str = "contract-roundtrip"
            ) -> uuid.UUID:
    """Publish one event on the platform's exchange exactly as the outbox relay would."""
    rabbit = topology.rabbitmq
    mid = message_id or uuid.uuid4()
    asyncio.run(_publish(rabbit.url(host=rabbit.host, port=rabbit.port), rabbit.exchange,
                         routing_key, payload, mid, request_id))
    return mid


async def _query(url: str, sql: str, *args: Any) -> Any:
    conn = await asyncpg.connect(url, timeout=10)
    try:
        return await conn.fetchval(sql, *args)
    finally:
        await conn.close()


def db_value(topology: Topology, service: str, sql: str, *args: Any) -> Any:
    """One value from a service's database on the running platform (read-only checks and
    test preconditions)."""
    pg = topology.postgres
    url = pg.url(topology.service(service).database, host=pg.host, port=pg.port)
    return asyncio.run(_query(url, sql, *args))


async def _transaction(url: str, statements: list[tuple[str, tuple[Any, ...]]]) -> None:
    conn = await asyncpg.connect(url, timeout=10)
    try:
        async with conn.transaction():
            for sql, args in statements:
                await conn.execute(sql, *args)
    finally:
        await conn.close()


def db_transaction(topology: Topology, service: str,
                   statements: list[tuple[str, tuple[Any, ...]]]) -> None:
    """Several statements in one transaction on a service's database (test preconditions
    that must keep the service's own invariants, e.g. stock conservation)."""
    pg = topology.postgres
    url = pg.url(topology.service(service).database, host=pg.host, port=pg.port)
    asyncio.run(_transaction(url, statements))
