"""Where a checkout's saga spends its time, from the services' own outbox and inbox rows.

Every hop of the saga leaves server-clock timestamps (one PostgreSQL server, one clock):
the outbox row's ``created_at`` (the producing transaction's start) and ``published_at``
(after the broker confirmed it), and the consumer's ``inbox.processed_at`` (its
transaction's start). Joined by event id, they split ``orders.created_at ->
updated_at`` into relay, broker and consumer stages without instrumenting the services.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from chaos.topology import Topology
from load.benchmarks.stats import percentile

HOPS: tuple[tuple[str, str, str], ...] = (
    ("order", "order.created", "product"),
    ("product", "inventory.reserved", "payment"),
    ("payment", "payment.completed", "order"),
)
"""(producing service, event, consuming service) of an approved checkout, in order."""


@dataclass(frozen=True, slots=True)
class Stage:
    name: str
    seconds: list[float]


async def commits(topology: Topology) -> dict[str, int]:
    """Committed transactions so far in each service database (pg_stat_database)."""
    conn = await _connect(topology, "order")
    try:
        names = {topology.service(s).database: s for s in ("user", "product", "order", "payment")}
        rows = await conn.fetch("SELECT datname, xact_commit FROM pg_stat_database"
                                " WHERE datname = ANY($1::text[])", list(names))
    finally:
        await conn.close()
    return {names[r["datname"]]: int(r["xact_commit"]) for r in rows}


async def _connect(topology: Topology, service: str) -> asyncpg.Connection:
    pg = topology.postgres
    return await asyncpg.connect(host=pg.host, port=pg.port, user=pg.user,
                                 password=pg.password or None,
                                 database=topology.service(service).database)


async def saga_stages(topology: Topology, order_ids: Sequence[int]) -> list[Stage]:
    """Per-stage durations of the given (PAID) orders' sagas."""
    if not order_ids:
        return []
    ids = [str(i) for i in order_ids]
    conns = {name: await _connect(topology, name) for name in ("order", "product", "payment")}
    try:
        orders = {r["id"]: r for r in await conns["order"].fetch(
            "SELECT id, created_at, updated_at FROM orders WHERE id = ANY($1::bigint[])",
            list(order_ids))}
        published: dict[str, dict[str, Any]] = {}
        for producer, event, _ in HOPS:
            rows = await conns[producer].fetch(
                "SELECT event_id::text AS event_id, payload->>'order_id' AS order_id,"
                " created_at, published_at FROM outbox"
                " WHERE event_type = $1 AND payload->>'order_id' = ANY($2::text[])", event, ids)
            for row in rows:  # the first event per order (a re-announcement comes later)
                published.setdefault(f"{event}/{row['order_id']}", dict(row))
        consumed: dict[str, datetime] = {}
        for _, _, consumer in HOPS:
            event_ids = [p["event_id"] for p in published.values()]
            for row in await conns[consumer].fetch(
                    "SELECT event_id, processed_at FROM inbox WHERE event_id = ANY($1::text[])",
                    event_ids):
                consumed[row["event_id"]] = row["processed_at"]
    finally:
        for conn in conns.values():
            await conn.close()
    return _stages(orders, published, consumed)


def _stages(orders: dict[int, Any], published: dict[str, dict[str, Any]],
            consumed: dict[str, datetime]) -> list[Stage]:
    stages: dict[str, list[float]] = {}

    def add(name: str, start: datetime | None, end: datetime | None) -> None:
        if start is not None and end is not None:
            stages.setdefault(name, []).append((end - start).total_seconds())

    for order_id, order in orders.items():
        for producer, event, consumer in HOPS:
            row = published.get(f"{event}/{order_id}")
            if row is None:
                continue
            label = "POST's" if producer == "order" else f"{producer} consumer's"
            add(f"{event}: {label} transaction starts -> {consumer} transaction starts",
                row["created_at"], consumed.get(row["event_id"]))
            add(f"{event}: {label} transaction starts -> relay marked it confirmed",
                row["created_at"], row["published_at"])
        add("saga total: created_at -> updated_at (PAID)", order["created_at"],
            order["updated_at"])
    return [Stage(name, values) for name, values in stages.items()]


def stages_table(stages: list[Stage]) -> str:
    """Median and p99 of each stage. A hop (one transaction's start to the next one's)
    holds the rest of the producing transaction, its commit, the relay's wake-up, fetch and
    publish, the broker, and the consumer's wait for a slot; the payment hop also holds the
    processor calls made before payment-service's transaction. The relay marks a row only
    after the confirm, so the consumer often starts before the row is marked."""
    rows = ["| saga stage (server clock) | orders | p50 ms | p99 ms |", "|---|---:|---:|---:|"]
    for stage in stages:
        rows.append(f"| {stage.name} | {len(stage.seconds)} | "
                    f"{percentile(stage.seconds, 50) * 1e3:.1f} | "
                    f"{percentile(stage.seconds, 99) * 1e3:.1f} |")
    return "\n".join(rows)
