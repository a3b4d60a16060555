"""Direct reads and writes of a service's database and of the broker, outside the mesh.

Platform tests that check an invariant look at the rows themselves (PostgreSQL itself,
not a proxy) and plant breaches or lost events with direct writes; these helpers keep that
to one call from synchronous tests.
"""
from __future__ import annotations

import asyncio
from typing import Any

import aio_pika
import asyncpg

from chaos.topology import Topology


def dsn(topology: Topology, service: str) -> str:
    """The service's own database on the PostgreSQL server itself (bypassing its proxy)."""
    pg = topology.postgres
    return pg.url(topology.service(service).database, host=pg.host, port=pg.port)


def amqp_url(topology: Topology) -> str:
    """The broker itself, in the platform's vhost."""
    rabbit = topology.rabbitmq
    return rabbit.url(host=rabbit.host, port=rabbit.port)


async def _connect(url: str, wait_s: float = 15.0) -> asyncpg.Connection:
    """Connect; a server momentarily at max_connections (shared by every instance on the
    machine) is waited for a little instead of failing the test."""
    deadline = asyncio.get_running_loop().time() + wait_s
    while True:
        try:
            return await asyncpg.connect(url, timeout=10)
        except asyncpg.TooManyConnectionsError:
            if asyncio.get_running_loop().time() >= deadline:
                raise
            await asyncio.sleep(0.5)


async def _run(url: str, sql: str, args: tuple[Any, ...]) -> list[asyncpg.Record]:
    conn = await _connect(url)
    try:
        return list(await conn.fetch(sql, *args, timeout=30))
    finally:
        await conn.close()


def rows(topology: Topology, service: str, sql: str, *args: Any) -> list[dict[str, Any]]:
    """Run one statement (autocommitted) on the service's database; rows as dicts."""
    return [dict(r) for r in asyncio.run(_run(dsn(topology, service), sql, args))]


def value(topology: Topology, service: str, sql: str, *args: Any) -> Any:
    """The first column of the first row (None when there is no row)."""
    found = rows(topology, service, sql, *args)
    return next(iter(found[0].values())) if found else None


async def _purge(url: str, queue: str) -> int:
    connection = await aio_pika.connect(url, timeout=10)
    async with connection:
        channel = await connection.channel()
        declared = await channel.declare_queue(queue, passive=True)
        result = await declared.purge()
        return int(getattr(result, "message_count", 0) or 0)


def purge_queue(topology: Topology, queue: str) -> int:
    """Drop every ready message of a queue (a lost event); the number dropped."""
    return asyncio.run(_purge(amqp_url(topology), queue))


async def _queue_depth(url: str, queue: str) -> int:
    connection = await aio_pika.connect(url, timeout=10)
    async with connection:
        channel = await connection.channel()
        declared = await channel.declare_queue(queue, passive=True)
        return int(declared.declaration_result.message_count or 0)


def queue_depth(topology: Topology, queue: str) -> int:
    """Ready messages in a queue (passive declare)."""
    return asyncio.run(_queue_depth(amqp_url(topology), queue))


async def _publish(url: str, exchange: str, routing_key: str, body: bytes,
                   message_id: str) -> None:
    connection = await aio_pika.connect(url, timeout=10)
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        target = await channel.get_exchange(exchange, ensure=False)
        await target.publish(
            aio_pika.Message(body, message_id=message_id, type=routing_key,
                             content_type="application/json",
                             delivery_mode=aio_pika.DeliveryMode.PERSISTENT),
            routing_key=routing_key, timeout=10)


def publish(topology: Topology, routing_key: str, body: bytes, message_id: str) -> None:
    """Publish one event to the saga's exchange, as a producer outside the mesh would."""
    asyncio.run(_publish(amqp_url(topology), topology.rabbitmq.exchange, routing_key, body,
                         message_id))


async def drop_database(server_url: str, name: str) -> None:
    """Drop a scratch database (its connections too); a missing one is fine."""
    conn = await asyncpg.connect(f"{server_url}/postgres", timeout=10)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()
