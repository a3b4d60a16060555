"""The least a checkout can cost on this machine: the work the design fixes, with none of the
platform's code.

    python -m load.benchmarks.checkout_floor [--units 2000 --rounds 3 --concurrency 8]

By the design a checkout is at least (`CHECKOUT`): five durable write transactions (the order
with its outbox row; product's reservation; payment's charge; order's PAID; product's sale),
three reads (the user check, the price look-up, one poll), four persistent broker messages,
each confirmed to its publisher and delivered and acknowledged once (order.created,
inventory.reserved, payment.completed, order.paid), and four HTTP requests to FastAPI
services (the POST, the user check, the price look-up, the poll), every one across a
Toxiproxy link as in the platform.

Each kind is measured alone, as the smallest thing of its kind: a one-round-trip
transaction inserting one row, a prepared primary-key SELECT, a small confirmed message, a
FastAPI route with a typed parameter and a response model. `concurrency` clients in one
uvloop process (asyncpg, aio-pika, aiohttp: the services' own clients) go through the
embedded Toxiproxy to PostgreSQL, RabbitMQ and a uvicorn server started under the services'
options. The figure is the busy CPU time of the whole machine per unit (client, proxy,
server, PostgreSQL or RabbitMQ, kernel), so the machine must be quiet; the processes' own
shares are printed beside it. Weighted by the counts, the units add up to a floor: what
they leave out (nginx, JSON bodies and validation, logging, tokens, the outbox relay, polls
beyond one, the platform's handlers) only adds to a real checkout. The scratch database,
queue, proxy server and HTTP server are removed on exit. Not a test; the figures depend on
the machine.
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import statistics
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field

import aio_pika
import aiohttp
import asyncpg
import httpx
import psutil
import uvloop

from chaos.topology import Topology, load_topology
from load.benchmarks.platform_cpu import broker_pids, machine_busy_s
from load.benchmarks.servers import free_port, positive_int, serving
from load.benchmarks.stack_floor import uvicorn_command

CHECKOUT = {"write transaction": 5, "read": 3, "message": 4, "HTTP request": 4}
"""Units of each kind a checkout needs at least, by the design (see the module's docstring)."""
TWO_CORES_MS = 2000.0
"""CPU milliseconds per second on this project's machines (2 cores)."""
GOAL_PER_S = 150
"""Issue 13's goal in completed checkouts per second."""

Unit = Callable[[int], Awaitable[None]]


@dataclass
class Measured:
    """CPU seconds over `units` units: the machine's busy time and each named process."""

    units: int
    machine: float
    processes: dict[str, float] = field(default_factory=dict)


def process_s(pids: dict[str, list[int]]) -> dict[str, float]:
    """CPU seconds so far of each named group of pids (a pid that is gone counts nothing)."""
    totals: dict[str, float] = {}
    for name, group in pids.items():
        seconds = 0.0
        for pid in group:
            with contextlib.suppress(psutil.Error):
                times = psutil.Process(pid).cpu_times()
                seconds += times.user + times.system
        totals[name] = seconds
    return totals


async def run_units(unit: Unit, *, units: int, concurrency: int,
                    pids: dict[str, list[int]]) -> Measured:
    """`units` calls of `unit` from `concurrency` workers (after a warm-up of each worker)."""
    warm, counted = iter(range(-concurrency * 20, 0)), iter(range(units))
    await asyncio.gather(*(_drain(unit, warm) for _ in range(concurrency)))
    own0, machine0, named0 = time.process_time(), machine_busy_s(), process_s(pids)
    await asyncio.gather(*(_drain(unit, counted) for _ in range(concurrency)))
    own1, machine1, named1 = time.process_time(), machine_busy_s(), process_s(pids)
    processes = {"client": own1 - own0}
    processes.update({name: named1[name] - named0[name] for name in named1})
    return Measured(units, machine1 - machine0, processes)


async def _drain(unit: Unit, indices: Iterator[int]) -> None:
    """One worker: calls `unit` with the next index the shared iterator gives, until none."""
    for index in indices:
        await unit(index)


# ---- the parts -----------------------------------------------------------------------------
def proxy_to(toxiproxy_url: str, host: str, port: int) -> int:
    """A proxy with no toxic from an ephemeral loopback port to `host:port`; its port."""
    response = httpx.post(f"{toxiproxy_url}/proxies", timeout=10, json={
        "name": f"floor_{port}", "listen": "127.0.0.1:0", "upstream": f"{host}:{port}"})
    response.raise_for_status()
    return int(response.json()["listen"].rsplit(":", 1)[1])


def backend_pids(connections: list[asyncpg.Connection]) -> list[int]:
    return [connection.get_server_pid() for connection in connections]


@contextlib.asynccontextmanager
async def scratch_database(topology: Topology, port: int) -> AsyncIterator[str]:
    """A database of its own through the proxy at `port`, dropped on exit."""
    pg = topology.postgres
    name = f"crashcart_floor_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(host=pg.host, port=pg.port, user=pg.user,
                                  password=pg.password or None, database="postgres")
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield pg.url(name, host="127.0.0.1", port=port)
        finally:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


async def database_units(dsn: str, *, units: int, concurrency: int,
                         proxy_pid: int) -> dict[str, Measured]:
    """A write transaction (one round trip: BEGIN, INSERT, COMMIT) and a prepared read."""
    connections = [await asyncpg.connect(dsn) for _ in range(concurrency)]
    free: asyncio.Queue[asyncpg.Connection] = asyncio.Queue()
    for connection in connections:
        free.put_nowait(connection)
    try:
        await connections[0].execute(
            "CREATE TABLE floor_rows (id bigserial PRIMARY KEY, key text UNIQUE NOT NULL, "
            "payload jsonb NOT NULL)")
        await connections[0].execute(
            "INSERT INTO floor_rows (key, payload) SELECT 'seed-' || n, '{}' "
            "FROM generate_series(1, 1000) n")
        pids = {"PostgreSQL backends": backend_pids(connections), "Toxiproxy": [proxy_pid]}

        async def write(index: int) -> None:
            connection = await free.get()
            try:
                await connection.execute(
                    f"BEGIN; INSERT INTO floor_rows (key, payload) VALUES ('w{index}', "
                    f"'{{\"order_id\": {index}, \"status\": \"PENDING\"}}'); COMMIT")
            finally:
                free.put_nowait(connection)

        async def read(index: int) -> None:
            connection = await free.get()
            try:
                await connection.fetchrow("SELECT id, key, payload FROM floor_rows WHERE id = $1",
                                          index % 1000 + 1)
            finally:
                free.put_nowait(connection)

        return {
            "write transaction": await run_units(write, units=units, concurrency=concurrency,
                                                 pids=pids),
            "read": await run_units(read, units=units, concurrency=concurrency, pids=pids),
        }
    finally:
        for connection in connections:
            await connection.close()


async def message_unit(url: str, *, units: int, concurrency: int, proxy_pid: int) -> Measured:
    """A persistent, mandatory message on a confirming channel, delivered and acknowledged
    on a second connection (publisher and consumer are different services)."""
    publisher = await aio_pika.connect(url)
    consumer = await aio_pika.connect(url)
    queue_name = f"crashcart.floor.{uuid.uuid4().hex[:8]}"
    try:
        channel = await publisher.channel(publisher_confirms=True)
        inbound = await consumer.channel()
        await inbound.set_qos(prefetch_count=concurrency * 2)
        queue = await inbound.declare_queue(queue_name, durable=True)
        waiting: dict[str, asyncio.Future[None]] = {}

        async def on_message(message: aio_pika.abc.AbstractIncomingMessage) -> None:
            await message.ack()
            future = waiting.pop(message.message_id or "", None)
            if future is not None and not future.done():
                future.set_result(None)

        await queue.consume(on_message)
        body = b'{"order_id": 1, "items": [{"product_id": 1, "quantity": 1}]}'

        async def send(index: int) -> None:
            message_id = f"m{index}"
            delivered = asyncio.get_running_loop().create_future()
            waiting[message_id] = delivered
            await channel.default_exchange.publish(
                aio_pika.Message(body, message_id=message_id, content_type="application/json",
                                 delivery_mode=aio_pika.DeliveryMode.PERSISTENT),
                routing_key=queue_name, mandatory=True)
            await delivered

        pids = {"RabbitMQ": broker_pids(), "Toxiproxy": [proxy_pid]}
        return await run_units(send, units=units, concurrency=concurrency, pids=pids)
    finally:
        await consumer.close()  # first: deleting a consumed queue cancels its consumer noisily
        with contextlib.suppress(aio_pika.exceptions.AMQPError):
            cleanup = await publisher.channel()
            await cleanup.queue_delete(queue_name)
        await publisher.close()


async def http_unit(base_url: str, *, units: int, concurrency: int, proxy_pid: int,
                    server_pid: int) -> Measured:
    """A GET of a FastAPI route over keep-alive connections (the services' aiohttp client)."""
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(base_url, connector=connector) as session:

        async def get(index: int) -> None:
            async with session.get(f"/floor/{index}") as response:
                response.raise_for_status()
                await response.read()

        pids = {"HTTP server": [server_pid], "Toxiproxy": [proxy_pid]}
        return await run_units(get, units=units, concurrency=concurrency, pids=pids)


# ---- a run ---------------------------------------------------------------------------------
async def one_round(topology: Topology, toxiproxy_url: str, proxy_pid: int, server_port: int,
                    server_pid: int, *, units: int, concurrency: int) -> dict[str, Measured]:
    """Every kind once, each through a fresh proxy."""
    pg, rabbit = topology.postgres, topology.rabbitmq
    results: dict[str, Measured] = {}
    async with scratch_database(topology, proxy_to(toxiproxy_url, pg.host, pg.port)) as dsn:
        results.update(await database_units(dsn, units=units, concurrency=concurrency,
                                            proxy_pid=proxy_pid))
    amqp = rabbit.url(host="127.0.0.1", port=proxy_to(toxiproxy_url, rabbit.host, rabbit.port))
    results["message"] = await message_unit(amqp, units=units, concurrency=concurrency,
                                            proxy_pid=proxy_pid)
    http = f"http://127.0.0.1:{proxy_to(toxiproxy_url, '127.0.0.1', server_port)}"
    results["HTTP request"] = await http_unit(http, units=units, concurrency=concurrency,
                                              proxy_pid=proxy_pid, server_pid=server_pid)
    return results


def floor_table(rounds: list[dict[str, Measured]]) -> str:
    """Per kind: the median machine CPU per unit and the processes' shares; then the floor."""
    rows = ["| unit | per checkout | machine CPU ms per unit (median) | of which (median ms) |",
            "|---|---:|---:|---|"]
    floor = 0.0
    for kind, count in CHECKOUT.items():
        per_unit = statistics.median(r[kind].machine / r[kind].units for r in rounds) * 1e3
        names = rounds[0][kind].processes
        shares = ", ".join(
            f"{name} {statistics.median(r[kind].processes[name] / r[kind].units for r in rounds) * 1e3:.3f}"
            for name in names)
        floor += count * per_unit
        rows.append(f"| {kind} | {count} | {per_unit:.3f} | {shares} |")
    rows.append(f"| **a checkout's floor** | | **{floor:.1f}** | |")
    budget = TWO_CORES_MS / GOAL_PER_S
    rows.append("")
    rows.append(f"Two cores give {TWO_CORES_MS:.0f} CPU ms per second: at most "
                f"{TWO_CORES_MS / floor:.0f} checkouts/s with nothing but this floor; "
                f"{GOAL_PER_S}/s leaves {budget:.1f} ms per checkout, "
                f"{budget - floor:.1f} ms above the floor for everything else.")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--units", type=positive_int, default=2000, help="units of each kind a round")
    parser.add_argument("--rounds", type=positive_int, default=3)
    parser.add_argument("--concurrency", type=positive_int, default=8,
                        help="concurrent clients (the benchmark's buyers)")
    parser.add_argument("--topology", default=None, help="topology file (PostgreSQL, RabbitMQ)")
    args = parser.parse_args(argv)
    topology = load_topology(args.topology)
    print(f"machine: nproc={os.cpu_count()}, python={sys.version.split()[0]}, "
          f"loadavg(1m)={os.getloadavg()[0]:.2f}; {args.rounds} rounds x {args.units} units of "
          f"each kind, concurrency {args.concurrency}", flush=True)
    toxiproxy_port, server_port = free_port(), free_port()
    toxiproxy_url = f"http://127.0.0.1:{toxiproxy_port}"
    toxiproxy = [sys.executable, "-m", "chaos.toxiproxy", "-host", "127.0.0.1",
                 "-port", str(toxiproxy_port)]
    server = uvicorn_command("fastapi_app", server_port)
    rounds: list[dict[str, Measured]] = []
    with serving(toxiproxy, f"{toxiproxy_url}/version") as proxy, \
            serving(server, f"http://127.0.0.1:{server_port}/floor/1") as http_server:
        for index in range(args.rounds):
            result = uvloop.run(one_round(topology, toxiproxy_url, proxy.pid, server_port,
                                          http_server.pid, units=args.units,
                                          concurrency=args.concurrency))
            # the next round's proxies take the same names (one per upstream)
            for proxy_name in httpx.get(f"{toxiproxy_url}/proxies", timeout=10).json():
                httpx.delete(f"{toxiproxy_url}/proxies/{proxy_name}", timeout=10)
            rounds.append(result)
            print(f"round {index + 1}: " + ", ".join(
                f"{kind} {m.machine / m.units * 1e3:.3f} ms" for kind, m in result.items()),
                flush=True)
    print("\n" + floor_table(rounds))


if __name__ == "__main__":
    main()
