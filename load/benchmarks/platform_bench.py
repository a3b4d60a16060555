"""Platform benchmark: what the gateway + toxic mesh cost, and how many checkouts complete.

Run against a platform that is already up (`crashcart up`):

    python -m load.benchmarks.platform_bench [--rounds 5 --requests 2000 --concurrency 16]

Two measurements in one run:

1. ``GET /api/v1/products/{id}`` through the gateway (nginx -> toxiproxy proxy ->
   product-service) versus straight to product-service's own port. The two targets are
   measured in interleaved rounds (A B, B A, ...) with the same fixed concurrency and
   request count, and the table reports medians over rounds, so drift on a shared machine
   (other processes, CPU boost, cache warmth) hits both sides alike.
2. Completed checkouts per second: N concurrent buyers each place an order (``tok_visa``)
   and poll it until it is PAID; bounded by a checkout count and a wall-clock limit.

Load engine: Locust's, as a library (one load engine in the project): each round is a fresh
Environment and local runner with ``concurrency`` FastHttpUsers (geventhttpclient, cheap
on CPU) that stop after the round's request count; checkouts are approved checkouts of
``load.journeys``' StorefrontUser. Latencies come from Locust's request event at full precision (its statistics
round to whole milliseconds, too coarse for ~1 ms reads). On a 2-core machine every client
cycle is taken from the platform, so the client's own CPU share is printed with every figure.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import gevent
from locust import FastHttpUser, User, constant, task
from locust.env import Environment
from locust.event import Events
from locust.exception import StopUser

from chaos.topology import Topology, load_topology
from load.benchmarks import platform_cpu, saga_stages, service_timings
from load.benchmarks.servers import positive_int
from load.benchmarks.stats import percentile
from load.data import prepare_catalog
from load.journeys import StorefrontUser
from load.run_context import set_catalog
from load.session import SAGA, saga_entry

GATEWAY, PROXY, DIRECT = "gateway + mesh", "mesh proxy only", "direct"
PAID_ENTRY = f"{SAGA} {saga_entry('PAID')}"
ORDERS_ENTRY = "POST /api/v1/orders"


# ---- results -----------------------------------------------------------------------------
@dataclass(slots=True)
class RoundResult:
    """One timed batch against one target."""

    target: str
    requests: int
    errors: int
    seconds: float
    latencies_s: list[float]
    client_cpu_s: float

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def client_cpu_percent(self) -> float:
        return 100 * self.client_cpu_s / self.seconds if self.seconds else 0.0

    def percentile(self, q: float) -> float:
        return percentile(self.latencies_s, q)


@dataclass(slots=True)
class CheckoutResult:
    completed: int = 0
    not_paid: int = 0
    errors: int = 0
    seconds: float = 0.0
    latencies_s: list[float] = field(default_factory=list)
    """Client view: POST accepted -> PAID seen by polling (includes the poll interval)."""
    saga_s: list[float] = field(default_factory=list)
    """Server view: the order's updated_at - created_at (the saga alone, no polling)."""
    accept_s: list[float] = field(default_factory=list)
    """The POST /orders round trip alone (user + product calls, insert + outbox row)."""
    stages: list[saga_stages.Stage] = field(default_factory=list)
    commits: dict[str, int] = field(default_factory=dict)
    """Committed transactions per service database during the run (setup included)."""
    """The saga split into relay, broker and consumer stages (outbox/inbox timestamps)."""

    @property
    def per_second(self) -> float:
        return self.completed / self.seconds if self.seconds else 0.0


# ---- the engine: one Locust run per batch ---------------------------------------------------
@dataclass(slots=True)
class Recorder:
    """Every request of a batch at full precision, from Locust's request event."""

    latencies_s: dict[str, list[float]] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)
    first_start: float = float("inf")
    first_order_start: float | None = None
    last_end: float = 0.0

    def __call__(self, request_type: str, name: str, response_time: float,
                 exception: BaseException | None = None, start_time: float | None = None,
                 **_: Any) -> None:
        key = f"{request_type} {name}"
        self.latencies_s.setdefault(key, []).append(response_time / 1000)
        self.errors[key] = self.errors.get(key, 0) + (exception is not None)
        now = time.time()
        self.first_start = min(self.first_start, start_time or now)
        if key == ORDERS_ENTRY and self.first_order_start is None:
            self.first_order_start = start_time or now
        self.last_end = max(self.last_end, now)

    @property
    def seconds(self) -> float:
        return max(0.0, self.last_end - self.first_start)


def locust_batch(user_class: type[User], host: str, *, users: int, max_seconds: float,
                 done: Callable[[Recorder], bool],
                 prepare: Callable[[Environment], None] | None = None
                 ) -> tuple[Recorder, float]:
    """Run ``users`` of ``user_class`` (a fresh Environment and Events) until
    ``done(recorder)`` or ``max_seconds``. Returns the recorder and the client CPU seconds."""
    environment = Environment(user_classes=[user_class], events=Events(), host=host)
    if prepare is not None:
        prepare(environment)
    recorder = Recorder()
    environment.events.request.add_listener(recorder)
    runner = environment.create_local_runner()
    cpu0 = time.process_time()
    deadline = time.monotonic() + max_seconds
    runner.start(users, spawn_rate=max(users, 1))
    try:
        while time.monotonic() < deadline and not done(recorder):
            gevent.sleep(0.02)
    finally:
        runner.quit()
    return recorder, time.process_time() - cpu0


class _Reader(FastHttpUser):
    """GETs one path back to back; the class attribute ``budget`` bounds the batch."""

    abstract = True
    wait_time = constant(0)
    path = "/"
    budget: list[int] = [0]

    @task
    def read(self) -> None:
        if self.budget[0] <= 0:
            raise StopUser()
        self.budget[0] -= 1
        self.client.get(self.path, name="read")


# ---- read path: gateway vs direct ----------------------------------------------------------
def timed_batch(url: str, target: str, path: str, *, requests: int, concurrency: int,
                max_seconds: float) -> RoundResult:
    """`requests` GETs of `path` from `concurrency` Locust users (stops early at `max_seconds`)."""
    reader = type("Reader", (_Reader,), {"abstract": False, "path": path, "budget": [requests],
                                         "concurrency": concurrency})
    recorder, cpu = locust_batch(reader, url, users=concurrency, max_seconds=max_seconds,
                                    done=lambda r: len(r.latencies_s.get("GET read", []))
                                    >= requests)
    latencies = recorder.latencies_s.get("GET read", [])
    return RoundResult(target, len(latencies), recorder.errors.get("GET read", 0),
                       recorder.seconds, latencies, cpu)


def compare_read_path(targets: dict[str, str], product_id: int, *, rounds: int,
                      requests: int, concurrency: int,
                      max_seconds: float) -> dict[str, list[RoundResult]]:
    """Interleaved rounds over `targets` (name -> base URL); round i starts at target i."""
    path = f"/api/v1/products/{product_id}"
    results: dict[str, list[RoundResult]] = {name: [] for name in targets}
    for name, url in targets.items():  # warm-up: connections, caches, lazy imports
        timed_batch(url, name, path, requests=min(300, requests), concurrency=concurrency,
                    max_seconds=max_seconds)
    order = list(targets)
    for index in range(rounds):
        shift = index % len(order)
        for name in order[shift:] + order[:shift]:
            result = timed_batch(targets[name], name, path, requests=requests,
                                 concurrency=concurrency, max_seconds=max_seconds)
            results[name].append(result)
            if result.errors > result.requests // 10:
                raise SystemExit(f"{name}: {result.errors}/{result.requests} requests "
                                 f"failed; is the platform still up? (figures discarded)")
            print(f"  round {index + 1}/{rounds} {name:<15} {result.rps:8.1f} req/s  "
                  f"p50 {result.percentile(50) * 1e3:6.2f} ms  "
                  f"p99 {result.percentile(99) * 1e3:6.2f} ms  errors {result.errors}  "
                  f"client CPU {result.client_cpu_percent:3.0f}%", flush=True)
    return results


# ---- write path: checkouts -----------------------------------------------------------------
class _Buyer(StorefrontUser):
    """Approved checkouts back to back (as CheckoutBuyer), bounded by the class attribute
    ``budget`` (orders left to place)."""

    abstract = True
    wait_time = constant(0)
    budget: list[int] = [0]

    @task
    def checkout(self) -> None:
        if self.budget[0] <= 0:
            raise StopUser()
        self.budget[0] -= 1
        self.checkout_approved()


def checkout_throughput(gateway_url: str, *, buyers: int, checkouts: int, max_seconds: float,
                        poll_interval_s: float, topology: Topology) -> CheckoutResult:
    """`buyers` CheckoutBuyers (register and log in first), each: order, poll to terminal,
    until `checkouts` orders are placed and followed (or `max_seconds`)."""
    catalog = prepare_catalog(gateway_url)
    commits_before = asyncio.run(saga_stages.commits(topology))
    buyer = type("BenchBuyer", (_Buyer,), {"abstract": False, "budget": [checkouts],
                                           "poll_interval_s": poll_interval_s})
    recorder, _ = locust_batch(
        buyer, gateway_url, users=buyers, max_seconds=max_seconds,
        done=lambda r: sum(len(v) for k, v in r.latencies_s.items() if k.startswith(SAGA))
        + r.errors.get(ORDERS_ENTRY, 0) >= checkouts,
        prepare=lambda environment: set_catalog(environment, catalog))
    result = CheckoutResult()
    paid = recorder.latencies_s.get(PAID_ENTRY, [])
    result.not_paid = recorder.errors.get(PAID_ENTRY, 0)
    result.completed = len(paid) - result.not_paid
    result.errors = recorder.errors.get(ORDERS_ENTRY, 0)
    result.latencies_s = paid
    result.accept_s = recorder.latencies_s.get(ORDERS_ENTRY, [])
    # timed from the first order placed (registration and login are not the benchmark)
    first_order = recorder.first_order_start or recorder.first_start
    result.seconds = max(1e-9, recorder.last_end - first_order)
    time.sleep(1.5)  # PostgreSQL flushes its per-database counters about once a second
    commits_after = asyncio.run(saga_stages.commits(topology))
    result.commits = {name: commits_after[name] - commits_before.get(name, 0)
                      for name in commits_after}
    paid_orders = asyncio.run(_paid_orders(topology, catalog.plenty_id))
    result.saga_s = list(paid_orders.values())
    result.stages = asyncio.run(saga_stages.saga_stages(topology, list(paid_orders)))
    return result


async def _paid_orders(topology: Topology, product_id: int) -> dict[int, float]:
    """Server view of the saga: order id -> updated_at - created_at of the run's PAID orders."""
    import asyncpg

    pg = topology.postgres
    connection = await asyncpg.connect(host=pg.host, port=pg.port, user=pg.user,
                                       password=pg.password or None,
                                       database=topology.service("order").database)
    try:
        rows = await connection.fetch(
            "SELECT o.id, extract(epoch FROM o.updated_at - o.created_at) AS s FROM orders o "
            "WHERE o.status = 'PAID' AND o.id IN (SELECT order_id FROM order_items "
            "WHERE product_id = $1)", product_id)
    finally:
        await connection.close()
    return {int(r["id"]): float(r["s"]) for r in rows}


# ---- machine and report --------------------------------------------------------------------
def machine() -> dict[str, str]:
    """nproc, CPU model and memory, for the record next to the figures."""
    model, memory = "unknown", "unknown"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            model = next((line.split(":", 1)[1].strip() for line in cpuinfo
                          if line.startswith("model name")), model)
        with open("/proc/meminfo", encoding="utf-8") as meminfo:
            kib = next(int(line.split()[1]) for line in meminfo if line.startswith("MemTotal"))
        memory = f"{kib / 1024 / 1024:.1f} GiB"
    except (OSError, StopIteration):
        pass
    load1, load5, _ = os.getloadavg()
    return {"nproc": str(os.cpu_count()), "cpu": model, "memory": memory,
            "python": platform.python_version(), "kernel": platform.release(),
            "loadavg(1m,5m) at start": f"{load1:.2f},{load5:.2f}"}


def read_path_table(results: dict[str, list[RoundResult]], concurrency: int) -> str:
    rows = [(f"| target (concurrency {concurrency}) | req/s | p50 ms | p99 ms | errors | "
             f"client CPU % |"), "|---|---:|---:|---:|---:|---:|"]
    p50s: dict[str, float] = {}
    for name, rounds in results.items():
        rps = statistics.median(r.rps for r in rounds)
        p50 = statistics.median(r.percentile(50) for r in rounds) * 1e3
        p99 = statistics.median(r.percentile(99) for r in rounds) * 1e3
        cpu = statistics.median(r.client_cpu_percent for r in rounds)
        errors = sum(r.errors for r in rounds)
        p50s[name] = p50
        rows.append(f"| {name} | {rps:.0f} | {p50:.2f} | {p99:.2f} | {errors} | {cpu:.0f} |")
    direct = p50s.get(DIRECT)
    notes = [f"{name} adds {p50 - direct:.2f} ms at p50 over direct ({p50 / direct:.2f}x)"
             for name, p50 in p50s.items() if direct and name != DIRECT]
    return "\n".join(rows) + ("\n\n" + "\n".join(notes) if notes else "")


def checkout_table(result: CheckoutResult, buyers: int) -> str:
    def ms(values: list[float]) -> str:
        return f"{percentile(values, 50) * 1e3:.0f} / {percentile(values, 99) * 1e3:.0f}"

    rows = [
        ("concurrent buyers", str(buyers)),
        ("orders PAID / not PAID / errors",
         f"{result.completed} / {result.not_paid} / {result.errors}"),
        ("wall time s", f"{result.seconds:.1f}"),
        ("**completed checkouts/s**", f"**{result.per_second:.1f}**"),
        ("POST /orders (accepted) p50 / p99 ms", ms(result.accept_s)),
        ("saga, created_at -> updated_at p50 / p99 ms", ms(result.saga_s)),
        ("accept -> PAID seen by the buyer p50 / p99 ms", ms(result.latencies_s)),
        *((f"transactions per order in {name}'s database (reads too)", f"{count / max(1, result.completed):.1f}")
          for name, count in sorted(result.commits.items())),
    ]
    return "\n".join(["| checkout | value |", "|---|---:|",
                      *(f"| {name} | {value} |" for name, value in rows)])


def request_stages_table(result: CheckoutResult,
                         inside: dict[service_timings.Key, service_timings.Timing]) -> str:
    """The POST /orders round trip split into the gateway + mesh in front of order-service
    and the time inside it (means: the services export histograms, not raw samples)."""
    post = inside.get(("order", "POST", "/api/v1/orders", "202"))
    client_mean = statistics.fmean(result.accept_s) if result.accept_s else float("nan")
    order_ms = post.mean_ms if post else float("nan")
    rows = ["| POST /orders stage (means) | ms |", "|---|---:|",
            f"| client round trip | {client_mean * 1e3:.1f} |",
            f"| inside order-service | {order_ms:.1f} |",
            f"| gateway + mesh + client (difference) | {client_mean * 1e3 - order_ms:.1f} |"]
    for dependency, route in (("user", "/internal/v1/users/{user_id}"),
                              ("product", "/api/v1/products/{product_id}")):
        timing = inside.get((dependency, "GET", route, "200"))
        if timing:
            rows.append(f"| of which inside {dependency}-service (GET {route}, concurrent) | "
                        f"{timing.mean_ms:.1f} |")
    return "\n".join(rows)


def first_product_id(gateway_url: str) -> int:
    with urllib.request.urlopen(f"{gateway_url}/api/v1/products?limit=1", timeout=10) as answer:
        page = json.load(answer)
    if not page["items"]:
        raise SystemExit("the catalog is empty; is the platform up and seeded?")
    return int(page["items"][0]["id"])


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    topology = load_topology()
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--gateway-url", default=topology.gateway_url)
    parser.add_argument("--direct-url", default=topology.service_urls["product"],
                        help="product-service's own port (bypasses nginx and the mesh)")
    edge = topology.edge("gateway", "product")
    parser.add_argument("--proxy-url", default=f"http://{topology.toxiproxy.host}:{edge.proxy_port}",
                        help=f"the {edge.name} proxy (the mesh hop without nginx); '' to skip")
    parser.add_argument("--rounds", type=positive_int, default=5,
                        help="read-path rounds per target (use --skip-reads for none)")
    parser.add_argument("--requests", type=positive_int, default=2000, help="per round and target")
    parser.add_argument("--concurrency", type=positive_int, nargs="+", default=[1, 16],
                        help="one read-path comparison per level: 1 shows the unloaded cost "
                             "of each hop, higher levels show throughput and queueing")
    parser.add_argument("--round-seconds", type=float, default=30.0,
                        help="upper bound of one round")
    parser.add_argument("--buyers", type=positive_int, default=8)
    parser.add_argument("--checkouts", type=positive_int, default=400)
    parser.add_argument("--checkout-seconds", type=float, default=60.0)
    parser.add_argument("--poll-interval", type=float, default=0.05,
                        help="order polling interval (s); bounds the latency resolution")
    parser.add_argument("--skip-reads", action="store_true", help="checkouts only")
    parser.add_argument("--skip-checkout", action="store_true", help="read path only")
    args = parser.parse_args(argv)
    if args.skip_reads and args.skip_checkout:
        parser.error("--skip-reads and --skip-checkout leave nothing to measure")
    args.service_urls = dict(topology.service_urls)
    args.service_urls["product"] = args.direct_url
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    print("machine: " + ", ".join(f"{k}={v}" for k, v in machine().items()))
    product_id = first_product_id(args.gateway_url)
    targets = {GATEWAY: args.gateway_url, PROXY: args.proxy_url, DIRECT: args.direct_url}
    targets = {name: url.rstrip("/") for name, url in targets.items() if url}
    for concurrency in [] if args.skip_reads else args.concurrency:
        print(f"\nread path: GET /api/v1/products/{product_id}, {args.rounds} interleaved "
              f"rounds x {args.requests} requests per target, concurrency {concurrency}")
        before = service_timings.snapshot(args.service_urls)
        reads = compare_read_path(targets, product_id, rounds=args.rounds,
                                  requests=args.requests, concurrency=concurrency,
                                  max_seconds=args.round_seconds)
        after = service_timings.snapshot(args.service_urls)
        print("\n" + read_path_table(reads, concurrency))
        print("\ninside the services during this phase (all targets together):\n"
              + service_timings.table(service_timings.delta(before, after), top=3))
    if args.skip_checkout:
        return
    print(f"\ncheckouts: {args.buyers} buyers, up to {args.checkouts} orders or "
          f"{args.checkout_seconds:.0f} s, polling every {args.poll_interval * 1e3:.0f} ms")
    cpu0 = time.process_time()
    databases = [load_topology().service(name).database for name in args.service_urls]
    cpu_before = platform_cpu.snapshot(databases)
    shared_before = platform_cpu.shared_snapshot()
    before = service_timings.snapshot(args.service_urls)
    checkouts = checkout_throughput(args.gateway_url, buyers=args.buyers,
                                    checkouts=args.checkouts, max_seconds=args.checkout_seconds,
                                    poll_interval_s=args.poll_interval,
                                    topology=load_topology())
    client_cpu = 100 * (time.process_time() - cpu0) / max(checkouts.seconds, 1e-9)
    after = service_timings.snapshot(args.service_urls)
    cpu_after = platform_cpu.snapshot(databases)
    shared_after = platform_cpu.shared_snapshot()
    print("\n" + checkout_table(checkouts, args.buyers))
    print("\nCPU of the platform's own processes per completed checkout (setup included):\n"
          + platform_cpu.table(cpu_before, cpu_after, checkouts.completed)
          + "\n" + platform_cpu.shared_line(shared_before, shared_after, checkouts.completed))
    inside = service_timings.delta(before, after)
    print("\n" + request_stages_table(checkouts, inside))
    print("\n" + saga_stages.stages_table(checkouts.stages))
    print("\ninside the services during the checkouts (setup included):\n"
          + service_timings.table(inside))
    print(f"(client CPU during checkouts, incl. setup: {client_cpu:.0f}% of one core)")
    print("loadavg(1m,5m) at end: {:.2f},{:.2f}".format(*os.getloadavg()[:2]))


if __name__ == "__main__":
    main()
