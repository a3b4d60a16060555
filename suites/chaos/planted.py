"""A scratch copy of the platform's data stores to plant breaches in.

Why not the running platform's databases: a planted breach there would break every later
experiment. The copy is real: each service's database created on the same PostgreSQL and
migrated with the service's own migrations (so the invariants read exactly the schema the
platform has), and a vhost of its own on the same RabbitMQ. The topology points at them by
a database suffix and vhost, exactly as an isolated platform instance would be addressed.
"""
from __future__ import annotations

import asyncio
import json
import os
import time
import uuid
from dataclasses import dataclass
from typing import Any

import aio_pika
import asyncpg
from svckit.migrations import apply_migrations, load_migrations

from chaos.faults.rabbit import rabbitmqctl
from chaos.invariants import Bounds, CheckContext, Scope, Sources
from chaos.invariants.sources import UNROUTABLE_QUEUE, connect_direct, dead_letter_queues
from chaos.topology import Topology, load_topology

PLANTED_SUFFIX = "_planted"


def planted_topology() -> Topology:
    suffix = os.environ.get("CRASHCART_DATABASE_SUFFIX", "") + PLANTED_SUFFIX
    base_vhost = load_topology().rabbitmq.vhost
    vhost = ("crashcart" if base_vhost == "/" else base_vhost) + PLANTED_SUFFIX
    return load_topology(env={**os.environ, "CRASHCART_DATABASE_SUFFIX": suffix,
                              "CRASHCART_RABBITMQ_VHOST": vhost})


@dataclass(slots=True)
class PlantedWorld:
    topology: Topology

    @property
    def sources(self) -> Sources:
        return Sources(self.topology)

    # ---- lifecycle ---------------------------------------------------------------------------
    def create(self) -> None:
        asyncio.run(self._create_databases())
        vhost = self.topology.rabbitmq.vhost
        rabbitmqctl("add_vhost", vhost)
        rabbitmqctl("set_permissions", "-p", vhost, self.topology.rabbitmq.user, ".*", ".*", ".*")

    def destroy(self) -> None:
        asyncio.run(self._drop_databases())
        rabbitmqctl("delete_vhost", self.topology.rabbitmq.vhost)

    def reset(self) -> None:
        """Empty every table and queue, so each test plants into a clean copy."""
        for service in self.topology.services:
            tables = [r["tablename"] for r in self.sql(
                service, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
                " AND tablename <> 'schema_migrations'")]
            if tables:
                self.sql(service, f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")
        asyncio.run(self._reset_queues())

    async def _admin(self) -> asyncpg.Connection:
        pg = self.topology.postgres
        return await connect_direct(pg.url("postgres", host=pg.host, port=pg.port))

    async def _create_databases(self) -> None:
        conn = await self._admin()
        try:
            for spec in self.topology.services.values():
                await conn.execute(f'DROP DATABASE IF EXISTS "{spec.database}" WITH (FORCE)')
                await conn.execute(f'CREATE DATABASE "{spec.database}"')
        finally:
            await conn.close()
        pg = self.topology.postgres
        for spec in self.topology.services.values():
            db = await connect_direct(pg.url(spec.database, host=pg.host, port=pg.port))
            try:
                await apply_migrations(db, load_migrations("svckit", spec.package))
            finally:
                await db.close()

    async def _drop_databases(self) -> None:
        conn = await self._admin()
        try:
            for spec in self.topology.services.values():
                await conn.execute(f'DROP DATABASE IF EXISTS "{spec.database}" WITH (FORCE)')
        finally:
            await conn.close()

    async def _connect_broker(self) -> aio_pika.abc.AbstractConnection:
        rabbit = self.topology.rabbitmq
        return await aio_pika.connect(rabbit.url(host=rabbit.host, port=rabbit.port))

    async def _reset_queues(self) -> None:
        connection = await self._connect_broker()
        try:
            channel = await connection.channel()
            for name in [*dead_letter_queues(), UNROUTABLE_QUEUE]:
                queue = await channel.declare_queue(name, durable=True)
                await queue.purge()
        finally:
            await connection.close()

    # ---- planting ----------------------------------------------------------------------------
    def sql(self, service: str, statement: str, *args: Any) -> list[dict[str, Any]]:
        """A direct write (or read) on the scratch copy of ``service``'s database."""
        async def run() -> list[dict[str, Any]]:
            pg = self.topology.postgres
            conn = await connect_direct(pg.url(self.topology.service(service).database,
                                               host=pg.host, port=pg.port))
            try:
                return [dict(r) for r in await conn.fetch(statement, *args)]
            finally:
                await conn.close()
        return asyncio.run(run())

    def order(self, status: str = "PENDING", *, user_id: int = 7) -> int:
        """An order row (the database's trigger records its first transition)."""
        rows = self.sql("order", "INSERT INTO orders (user_id, status, total, idempotency_key,"
                        " request_hash) VALUES ($1, $2, 10.00, $3, 'h') RETURNING id",
                        user_id, status, uuid.uuid4().hex)
        return int(rows[0]["id"])

    def publish(self, queue: str, payload: dict[str, Any], *, event_type: str,
                headers: dict[str, Any] | None = None) -> str:
        """Put a message straight into ``queue`` (default exchange); return its id."""
        message_id = str(uuid.uuid4())

        async def run() -> None:
            connection = await self._connect_broker()
            try:
                channel = await connection.channel(publisher_confirms=True)
                await channel.declare_queue(queue, durable=True)
                await channel.default_exchange.publish(
                    aio_pika.Message(json.dumps(payload).encode(), message_id=message_id,
                                     type=event_type, headers=headers or {}),
                    routing_key=queue)
            finally:
                await connection.close()
        asyncio.run(run())
        return message_id

    def delete_queue(self, queue: str) -> None:
        async def run() -> None:
            connection = await self._connect_broker()
            try:
                channel = await connection.channel()
                await channel.queue_delete(queue)
            finally:
                await connection.close()
        asyncio.run(run())

    def context(self, *, scope: Scope | None = None, bounds: Bounds | None = None,
                **fields: Any) -> CheckContext:
        """A check context over the copy; the faults 'cleared' long enough ago."""
        return CheckContext(topology=self.topology, sources=self.sources,
                            scope=scope or Scope(),
                            bounds=bounds or Bounds(terminal_within_s=1.0, drain_within_s=1.0,
                                                    settle_s=1.0, recovery_within_s=2.0),
                            faults_cleared_at=fields.pop("faults_cleared_at", time.time() - 1),
                            **fields)
