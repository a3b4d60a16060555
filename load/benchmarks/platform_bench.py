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

Client: one process of greenlets on ``geventhttpclient`` (the engine of Locust's
FastHttpUser, so already in the dependency tree) with one keep-alive pool per target sized
to the concurrency. On a 2-core machine every client cycle is taken from the platform:
measured here, httpx's async client spent ~1.4 ms of CPU per request (60 % of a core at
~420 req/s, enough to make the client the bottleneck), geventhttpclient ~0.12 ms. The
client's own CPU share is printed with every figure so its cost stays visible.
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime

import gevent
from gevent.pool import Pool

from chaos.topology import load_topology
from load.benchmarks import service_timings
from load.benchmarks.client import Api, percentile

TERMINAL = {"PAID", "PAYMENT_FAILED", "REJECTED"}
GATEWAY, PROXY, DIRECT = "gateway + mesh", "mesh proxy only", "direct"
PASSWORD = "bench-password-123"


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

    @property
    def per_second(self) -> float:
        return self.completed / self.seconds if self.seconds else 0.0


# ---- read path: gateway vs direct ----------------------------------------------------------
def timed_batch(api: Api, target: str, path: str, *, requests: int, concurrency: int,
                max_seconds: float) -> RoundResult:
    """`requests` GETs of `path` from `concurrency` greenlets (stops early at `max_seconds`)."""
    latencies: list[float] = []
    errors = 0
    issued = 0
    deadline = time.monotonic() + max_seconds

    def worker() -> None:
        nonlocal errors, issued
        while issued < requests and time.monotonic() < deadline:
            issued += 1
            started = time.perf_counter()
            try:
                ok = api.request("GET", path)[0] == 200
            except Exception:  # noqa: BLE001 - any failure is an error of this round
                ok = False
            latencies.append(time.perf_counter() - started)
            errors += not ok

    pool = Pool(concurrency)
    cpu0, wall0 = time.process_time(), time.perf_counter()
    for _ in range(concurrency):
        pool.spawn(worker)
    pool.join()
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    return RoundResult(target, len(latencies), errors, wall, latencies, cpu)


def compare_read_path(targets: dict[str, str], product_id: int, *, rounds: int,
                      requests: int, concurrency: int,
                      max_seconds: float) -> dict[str, list[RoundResult]]:
    """Interleaved rounds over `targets` (name -> base URL); round i starts at target i."""
    path = f"/api/v1/products/{product_id}"
    clients = {name: Api(url, concurrency=concurrency) for name, url in targets.items()}
    results: dict[str, list[RoundResult]] = {name: [] for name in clients}
    try:
        for name, api in clients.items():  # warm-up: connections, caches, lazy imports
            timed_batch(api, name, path, requests=min(300, requests),
                        concurrency=concurrency, max_seconds=max_seconds)
        order = list(clients)
        for index in range(rounds):
            shift = index % len(order)
            for name in order[shift:] + order[:shift]:
                result = timed_batch(clients[name], name, path, requests=requests,
                                     concurrency=concurrency, max_seconds=max_seconds)
                results[name].append(result)
                if result.errors > result.requests // 10:
                    raise SystemExit(f"{name}: {result.errors}/{result.requests} requests "
                                     f"failed; is the platform still up? (figures discarded)")
                print(f"  round {index + 1}/{rounds} {name:<15} {result.rps:8.1f} req/s  "
                      f"p50 {result.percentile(50) * 1e3:6.1f} ms  "
                      f"p99 {result.percentile(99) * 1e3:6.1f} ms  errors {result.errors}  "
                      f"client CPU {result.client_cpu_percent:3.0f}%", flush=True)
    finally:
        for api in clients.values():
            api.close()
    return results


# ---- write path: checkouts -----------------------------------------------------------------
def new_buyer(api: Api) -> dict[str, str]:
    email = f"bench-{uuid.uuid4().hex[:12]}@example.com"
    api.json("POST", "/api/v1/users", 201,
             body={"email": email, "password": PASSWORD, "name": "Bench Buyer"})
    token = api.json("POST", "/api/v1/users/login", 200,
                     body={"email": email, "password": PASSWORD})
    return {"Authorization": f"Bearer {token['access_token']}"}


def bench_product(api: Api, stock: int) -> int:
    """An admin-created product with enough stock that no benchmark order is rejected."""
    settings = load_topology().settings
    email = os.environ.get("ADMIN_EMAIL") or settings.admin_email
    password = os.environ.get("ADMIN_PASSWORD") or settings.admin_password
    token = api.json("POST", "/api/v1/users/login", 200,
                     body={"email": email, "password": password})
    product = api.json(
        "POST", "/api/v1/products", 201,
        body={"sku": f"BENCH-{uuid.uuid4().hex[:10]}", "name": "Benchmark widget",
              "description": "checkout benchmark", "price": "9.99", "stock": stock},
        headers={"Authorization": f"Bearer {token['access_token']}"})
    return int(product["id"])


def checkout_throughput(gateway_url: str, *, buyers: int, checkouts: int, max_seconds: float,
                        poll_interval_s: float) -> CheckoutResult:
    """`buyers` greenlets each loop: place an order, poll it to a terminal state."""
    result = CheckoutResult()
    api = Api(gateway_url, concurrency=buyers)
    try:
        product_id = bench_product(api, stock=checkouts * 2 + 1000)
        auths = [new_buyer(api) for _ in range(buyers)]
        started_orders = 0
        deadline = time.monotonic() + max_seconds

        def buyer(auth: dict[str, str]) -> None:
            nonlocal started_orders
            while started_orders < checkouts and time.monotonic() < deadline:
                started_orders += 1
                began = time.perf_counter()
                try:
                    order = api.json(
                        "POST", "/api/v1/orders", 202,
                        body={"items": [{"product_id": product_id, "quantity": 1}],
                              "payment_token": "tok_visa"},
                        headers={**auth, "Idempotency-Key": uuid.uuid4().hex})
                    result.accept_s.append(time.perf_counter() - began)
                    while order["status"] not in TERMINAL and time.monotonic() < deadline + 30:
                        gevent.sleep(poll_interval_s)
                        order = api.json("GET", f"/api/v1/orders/{order['id']}", 200,
                                         headers=auth)
                except Exception as exc:  # noqa: BLE001 - counted and shown, run goes on
                    result.errors += 1
                    print(f"  checkout error: {exc}", flush=True)
                    continue
                if order["status"] == "PAID":
                    result.completed += 1
                    result.latencies_s.append(time.perf_counter() - began)
                    result.saga_s.append((datetime.fromisoformat(order["updated_at"])
                                          - datetime.fromisoformat(order["created_at"]))
                                         .total_seconds())
                else:
                    result.not_paid += 1

        wall0 = time.perf_counter()
        gevent.joinall([gevent.spawn(buyer, auth) for auth in auths])
        result.seconds = time.perf_counter() - wall0
    finally:
        api.close()
    return result


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
    ]
    return "\n".join(["| checkout | value |", "|---|---:|",
                      *(f"| {name} | {value} |" for name, value in rows)])


def first_product_id(gateway_url: str) -> int:
    api = Api(gateway_url, concurrency=1)
    try:
        page = api.json("GET", "/api/v1/products?limit=1", 200)
    finally:
        api.close()
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
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--requests", type=int, default=2000, help="per round and target")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 16],
                        help="one read-path comparison per level: 1 shows the unloaded cost "
                             "of each hop, higher levels show throughput and queueing")
    parser.add_argument("--round-seconds", type=float, default=30.0,
                        help="upper bound of one round")
    parser.add_argument("--buyers", type=int, default=8)
    parser.add_argument("--checkouts", type=int, default=400)
    parser.add_argument("--checkout-seconds", type=float, default=60.0)
    parser.add_argument("--poll-interval", type=float, default=0.05,
                        help="order polling interval (s); bounds the latency resolution")
    parser.add_argument("--skip-checkout", action="store_true")
    args = parser.parse_args(argv)
    args.service_urls = dict(topology.service_urls)
    args.service_urls["product"] = args.direct_url
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    print("machine: " + ", ".join(f"{k}={v}" for k, v in machine().items()))
    product_id = first_product_id(args.gateway_url)
    targets = {GATEWAY: args.gateway_url, PROXY: args.proxy_url, DIRECT: args.direct_url}
    targets = {name: url.rstrip("/") for name, url in targets.items() if url}
    for concurrency in args.concurrency:
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
    before = service_timings.snapshot(args.service_urls)
    checkouts = checkout_throughput(args.gateway_url, buyers=args.buyers,
                                    checkouts=args.checkouts, max_seconds=args.checkout_seconds,
                                    poll_interval_s=args.poll_interval)
    client_cpu = 100 * (time.process_time() - cpu0) / max(checkouts.seconds, 1e-9)
    after = service_timings.snapshot(args.service_urls)
    print("\n" + checkout_table(checkouts, args.buyers))
    print("\ninside the services during the checkouts (setup included):\n"
          + service_timings.table(service_timings.delta(before, after)))
    print(f"(client CPU during checkouts, incl. setup: {client_cpu:.0f}% of one core)")
    print("loadavg(1m,5m) at end: {:.2f},{:.2f}".format(*os.getloadavg()[:2]))


if __name__ == "__main__":
    main()
