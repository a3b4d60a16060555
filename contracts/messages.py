"""The saga's messages on both sides of a message pact.

Consumer side: a pact example (body + metadata) becomes the svckit ``Event`` the queue
callback would decode, and is handed to the consumer's real ``Consumer.deliver`` (inbox
dedupe + the handler in one transaction) against a real database (:class:`SagaDatabases`).

Provider side: each pair folder's ``producers.py`` maps an interaction description to the
publisher's real payload builder; the message is then serialised by
``svckit.outbox.build_message`` — the code the outbox relay publishes with — and its routing
key, message id and request id become the pact metadata.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import uuid
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from typing import Any, TypeVar

import asyncpg
from pact import match
from svckit.consumer import Consumer, Event
from svckit.db import create_pool
from svckit.migrations import migrate
from svckit.outbox import build_message
from svckit.request_id import HEADER as REQUEST_ID_HEADER
from svckit.settings import ServiceSettings

from chaos.topology import Topology
from contracts.pactkit import UUID
from contracts.pairs import pairs_of_provider

T = TypeVar("T")
Produced = tuple[str, dict[str, Any]]
"""(event type = routing key, payload) as the publisher's builder makes it."""
Producer = Callable[[dict[str, Any]], Produced]
EXAMPLE_REQUEST_ID = "req-contract-0001"


def example_message_id(number: int) -> str:
    """A distinct UUID per example: the consumer's inbox dedupes by message id."""
    return f"00000000-0000-4000-8000-{number:012d}"


def metadata(routing_key: str, example: int) -> dict[str, Any]:
    """Pact metadata of a saga message: the routing key exactly, ids by shape."""
    return {"routing_key": routing_key,
            "message_id": match.regex(example_message_id(example), regex=UUID),
            "request_id": match.str(EXAMPLE_REQUEST_ID),
            "content_type": "application/json"}


def event_of(body: str | bytes, meta: dict[str, Any]) -> Event:
    """The Event the consumer's queue callback decodes from this message."""
    return Event(event_id=str(meta.get("message_id") or uuid.uuid4()),
                 event_type=str(meta["routing_key"]), payload=json.loads(body), attempt=1)


# ---- provider side --------------------------------------------------------------------
def message_of(event_type: str, payload: dict[str, Any], *, request_id: str) -> dict[str, Any]:
    """A pact message (``pact.types.Message``) from the outbox's own serialiser."""
    message = build_message(uuid.uuid4(), event_type, payload, {REQUEST_ID_HEADER: request_id})
    headers = message.headers or {}
    return {"contents": message.body,
            "metadata": {"routing_key": message.type, "message_id": message.message_id,
                         "request_id": headers.get(REQUEST_ID_HEADER),
                         "content_type": message.content_type},
            "content_type": message.content_type}


def producers_of(provider: str) -> dict[str, Producer]:
    found: dict[str, Producer] = {}
    for pair in pairs_of_provider(provider, "message"):
        module = importlib.import_module(f"contracts.{pair.folder}.producers")
        found.update(module.PRODUCERS)
    return found


def state_params(meta: dict[str, Any] | None) -> dict[str, Any]:
    """All provider-state parameters the verifier passed with a message request."""
    params: dict[str, Any] = {}
    for state in (meta or {}).get("providerStates", []) or []:
        params.update(state.get("params") or {})
    return params


def message_producer(provider: str) -> Callable[[str, dict[str, Any] | None], dict[str, Any]]:
    """The verifier's message handler for ``provider``: description -> real message."""
    producers = producers_of(provider)

    def produce(name: str, metadata: dict[str, Any] | None) -> dict[str, Any]:
        if name not in producers:
            raise KeyError(f"{provider} has no producer for {name!r} "
                           f"(known: {', '.join(sorted(producers))})")
        event_type, payload = producers[name](state_params(metadata))
        return message_of(event_type, payload, request_id=EXAMPLE_REQUEST_ID)

    return produce


# ---- consumer side: real consumers on real databases ------------------------------------
@dataclass(slots=True)
class SagaDatabases:
    """One fresh database per consuming service and that service's real consumers on it.

    Owns an event loop so asyncpg pools survive between the synchronous Pact callbacks.
    """

    loop: asyncio.AbstractEventLoop
    pools: dict[str, asyncpg.Pool] = field(default_factory=dict)
    consumers: dict[str, list[Consumer]] = field(default_factory=dict)

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return self.loop.run_until_complete(coro)

    def consumer_for(self, service: str, event_type: str) -> Consumer:
        for consumer in self.consumers[service]:
            if event_type in consumer.handlers:
                return consumer
        raise LookupError(f"{service}-service consumes no {event_type!r}")

    def deliver(self, service: str, event: Event) -> bool:
        """Hand one event to the service's real consumer (True: it was a duplicate)."""
        return self.run(self.consumer_for(service, event.event_type).deliver(event))

    def handler(self, service: str) -> Callable[[Any, dict[str, Any]], None]:
        """A ``pact.verify(..., "Async")`` handler delivering the example to ``service``."""
        def handle(body: Any, meta: dict[str, Any]) -> None:
            self.deliver(service, event_of(body, meta))
        return handle

    def fetchval(self, service: str, sql: str, *args: Any) -> Any:
        return self.run(self.pools[service].fetchval(sql, *args))

    def execute(self, service: str, sql: str, *args: Any) -> None:
        self.run(self.pools[service].execute(sql, *args))

    def outbox(self, service: str) -> list[tuple[str, dict[str, Any]]]:
        """(event type, payload) of every event the service's handlers have emitted."""
        rows = self.run(self.pools[service].fetch(
            "SELECT event_type, payload FROM outbox ORDER BY id"))
        return [(r["event_type"], _json(r["payload"])) for r in rows]


def _json(value: Any) -> dict[str, Any]:
    return json.loads(value) if isinstance(value, str | bytes) else dict(value)


def _database(topology: Topology, service: str, tag: str = "") -> str:
    return f"{topology.service(service).database}_pactmsg{tag}"


async def _fresh(topology: Topology, database: str) -> None:
    pg = topology.postgres
    conn = await asyncpg.connect(pg.url("postgres", host=pg.host, port=pg.port), timeout=10)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{database}"')
    finally:
        await conn.close()


@contextmanager
def saga_databases(topology: Topology, services: tuple[str, ...] = ("product", "order",
                                                                     "payment"),
                   tag: str = "") -> Iterator[SagaDatabases]:
    """Fresh databases (``<db>_pactmsg<tag>``) with each service's real consumers on them."""
    loop = asyncio.new_event_loop()
    dbs = SagaDatabases(loop=loop)
    pg = topology.postgres
    try:
        for service in services:
            database = _database(topology, service, tag)
            loop.run_until_complete(_fresh(topology, database))
            url = pg.url(database, host=pg.host, port=pg.port)
            settings = ServiceSettings(service_name=service, database_url=url,  # type: ignore[arg-type]
                                       db_pool_max=2)
            pool = loop.run_until_complete(create_pool(settings))
            dbs.pools[service] = pool
            loop.run_until_complete(migrate(pool, f"{service}_service"))
            events = importlib.import_module(f"{service}_service.events")
            dbs.consumers[service] = list(events.consumers(pool, settings))
        yield dbs
    finally:
        for pool in dbs.pools.values():
            loop.run_until_complete(pool.close())
        for service in dbs.pools:
            with suppress(Exception):  # throw-away; recreated by the next run anyway
                loop.run_until_complete(_drop(topology, _database(topology, service, tag)))
        loop.close()


async def _drop(topology: Topology, database: str) -> None:
    pg = topology.postgres
    conn = await asyncpg.connect(pg.url("postgres", host=pg.host, port=pg.port), timeout=10)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    finally:
        await conn.close()


def seed_product(dbs: SagaDatabases, product_id: int, stock: int, price: str = "19.99") -> None:
    """A product in product-service's test database (with its 'initial' ledger row if the
    platform keeps one), as a consumer test's precondition."""
    dbs.execute("product", "DELETE FROM products WHERE id = $1 AND NOT EXISTS (SELECT 1 FROM"
                " reservation_items r WHERE r.product_id = products.id)", product_id)
    dbs.execute("product", "INSERT INTO products (id, sku, name, price, stock) VALUES"
                " ($1, $2, $3, $4::numeric, $5) ON CONFLICT (id) DO NOTHING",
                product_id, f"PACT-MSG-{product_id}", f"Message product {product_id}", price,
                stock)
    if dbs.fetchval("product", "SELECT to_regclass('stock_adjustments') IS NOT NULL"):
        dbs.execute("product", "INSERT INTO stock_adjustments (product_id, delta, reason)"
                    " SELECT $1, $2, 'initial' WHERE NOT EXISTS (SELECT 1 FROM"
                    " stock_adjustments WHERE product_id = $1)", product_id, stock)


def seed_order(dbs: SagaDatabases, order_id: int, user_id: int, total: str = "39.98") -> None:
    """A PENDING order in order-service's test database (a consumer test's precondition)."""
    dbs.execute("order", "INSERT INTO orders (id, user_id, total, currency, idempotency_key,"
                " request_hash) VALUES ($1, $2, $3::numeric, 'EUR', $4, 'contract')"
                " ON CONFLICT (id) DO NOTHING", order_id, user_id, total, f"msg-{order_id}")
