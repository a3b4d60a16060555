"""Platform benchmark: what the gateway + toxic mesh cost, and how many checkouts complete.

Run against a platform that is already up (`crashcart up`):

    python -m load.benchmarks.platform_bench [--rounds 5 --requests 1500 --concurrency 16]

Two measurements in one run:

1. ``GET /api/v1/products/{id}`` through the gateway (nginx -> toxiproxy proxy ->
   product-service) versus straight to product-service's own port. The two targets are
   measured in interleaved rounds (A B, B A, ...) with the same fixed concurrency and
   request count, and the table reports medians over rounds, so drift on a shared machine
   (other processes, CPU boost, cache warmth) hits both sides alike.
2. Completed checkouts per second: N concurrent buyers each place an order (``tok_visa``)
   and poll it until it is PAID; bounded by a checkout count and a wall-clock limit.

Client: one process, ``httpx.AsyncClient`` with a shared keep-alive pool sized to the
concurrency, on uvloop when available. On a 2-core machine every client CPU cycle is taken
from the platform, so a single event-loop process (no per-request threads, no extra
processes competing for the two cores) is the cheapest honest load generator; the client's
own CPU share is measured and printed so its cost is visible rather than assumed.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from chaos.topology import load_topology

TERMINAL = {"PAID", "PAYMENT_FAILED", "REJECTED"}
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

    def percentile(self, q: float) -> float:
        return percentile(self.latencies_s, q)


@dataclass(slots=True)
class CheckoutResult:
    completed: int = 0
    not_paid: int = 0
    errors: int = 0
    seconds: float = 0.0
    latencies_s: list[float] = field(default_factory=list)

    @property
    def per_second(self) -> float:
        return self.completed / self.seconds if self.seconds else 0.0


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100); NaN for no data."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


# ---- read path: gateway vs direct ----------------------------------------------------------
async def timed_batch(client: httpx.AsyncClient, target: str, url: str, *, requests: int,
                      concurrency: int, max_seconds: float) -> RoundResult:
    """`requests` GETs of `url` from `concurrency` workers (stops early at `max_seconds`)."""
    latencies: list[float] = []
    errors = 0
    issued = 0
    deadline = time.monotonic() + max_seconds

    async def worker() -> None:
        nonlocal errors, issued
        while issued < requests and time.monotonic() < deadline:
            issued += 1
            started = time.perf_counter()
            try:
                answer = await client.get(url)
                ok = answer.status_code == 200
            except httpx.HTTPError:
                ok = False
            latencies.append(time.perf_counter() - started)
            errors += not ok

    cpu0, wall0 = time.process_time(), time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    return RoundResult(target, len(latencies), errors, wall, latencies, cpu)


async def compare_read_path(gateway_url: str, direct_url: str, product_id: int, *,
                            rounds: int, requests: int, concurrency: int,
                            max_seconds: float) -> dict[str, list[RoundResult]]:
    path = f"/api/v1/products/{product_id}"
    targets = {"gateway + mesh": gateway_url + path, "direct": direct_url + path}
    results: dict[str, list[RoundResult]] = {name: [] for name in targets}
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=30.0) as client:
        for name, url in targets.items():  # warm-up: pools, caches, JIT-less but lazy imports
            await timed_batch(client, name, url, requests=min(200, requests),
                              concurrency=concurrency, max_seconds=max_seconds)
        order = list(targets)
        for index in range(rounds):
            for name in order if index % 2 == 0 else reversed(order):
                result = await timed_batch(client, name, targets[name], requests=requests,
                                           concurrency=concurrency, max_seconds=max_seconds)
                results[name].append(result)
                print(f"  round {index + 1}/{rounds} {name:<15} {result.rps:8.1f} req/s  "
                      f"p50 {result.percentile(50) * 1e3:6.1f} ms  "
                      f"p99 {result.percentile(99) * 1e3:6.1f} ms  errors {result.errors}",
                      flush=True)
    return results


# ---- write path: checkouts -----------------------------------------------------------------
async def _json(answer_coro: Awaitable[httpx.Response], expected: int) -> Any:
    answer = await answer_coro
    if answer.status_code != expected:
        raise RuntimeError(f"{answer.request.method} {answer.request.url} -> "
                           f"{answer.status_code}: {answer.text[:300]}")
    return answer.json()


async def new_buyer(client: httpx.AsyncClient) -> dict[str, str]:
    email = f"bench-{uuid.uuid4().hex[:12]}@example.com"
    await _json(client.post("/api/v1/users", json={"email": email, "password": PASSWORD,
                                                   "name": "Bench Buyer"}), 201)
    token = await _json(client.post("/api/v1/users/login",
                                    json={"email": email, "password": PASSWORD}), 200)
    return {"Authorization": f"Bearer {token['access_token']}"}


async def bench_product(client: httpx.AsyncClient, stock: int) -> int:
    """An admin-created product with enough stock that no benchmark order is rejected."""
    topology = load_topology()
    email = os.environ.get("ADMIN_EMAIL") or topology.settings.admin_email
    password = os.environ.get("ADMIN_PASSWORD") or topology.settings.admin_password
    token = await _json(client.post("/api/v1/users/login",
                                    json={"email": email, "password": password}), 200)
    product = await _json(client.post(
        "/api/v1/products",
        json={"sku": f"BENCH-{uuid.uuid4().hex[:10]}", "name": "Benchmark widget",
              "description": "checkout benchmark", "price": "9.99", "stock": stock},
        headers={"Authorization": f"Bearer {token['access_token']}"}), 201)
    return int(product["id"])


async def checkout_throughput(gateway_url: str, *, buyers: int, checkouts: int,
                              max_seconds: float, poll_interval_s: float) -> CheckoutResult:
    result = CheckoutResult()
    limits = httpx.Limits(max_connections=buyers * 2, max_keepalive_connections=buyers * 2)
    async with httpx.AsyncClient(base_url=gateway_url, limits=limits, timeout=30.0) as client:
        product_id = await bench_product(client, stock=checkouts * 2 + 1000)
        auths = await asyncio.gather(*(new_buyer(client) for _ in range(buyers)))
        started_orders = 0
        deadline = time.monotonic() + max_seconds

        async def buyer(auth: dict[str, str]) -> None:
            nonlocal started_orders
            while started_orders < checkouts and time.monotonic() < deadline:
                started_orders += 1
                began = time.perf_counter()
                try:
                    order = await _json(client.post(
                        "/api/v1/orders",
                        json={"items": [{"product_id": product_id, "quantity": 1}],
                              "payment_token": "tok_visa"},
                        headers={**auth, "Idempotency-Key": uuid.uuid4().hex}), 202)
                    status = order["status"]
                    while status not in TERMINAL and time.monotonic() < deadline + 30:
                        await asyncio.sleep(poll_interval_s)
                        status = (await _json(client.get(f"/api/v1/orders/{order['id']}",
                                                         headers=auth), 200))["status"]
                except (httpx.HTTPError, RuntimeError) as exc:
                    result.errors += 1
                    print(f"  checkout error: {exc}", flush=True)
                    continue
                if status == "PAID":
                    result.completed += 1
                    result.latencies_s.append(time.perf_counter() - began)
                else:
                    result.not_paid += 1

        wall0 = time.perf_counter()
        await asyncio.gather(*(buyer(auth) for auth in auths))
        result.seconds = time.perf_counter() - wall0
    return result


# ---- machine and report --------------------------------------------------------------------
def machine() -> dict[str, str]:
    """nproc, CPU model and memory, for the record next to the figures."""
    model = "unknown"
    try:
        for line in open("/proc/cpuinfo", encoding="utf-8"):
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
        memory_kb = next(int(line.split()[1]) for line in open("/proc/meminfo", encoding="utf-8")
                         if line.startswith("MemTotal"))
        memory = f"{memory_kb / 1024 / 1024:.1f} GiB"
    except (OSError, StopIteration):
        memory = "unknown"
    return {"nproc": str(os.cpu_count()), "cpu": model, "memory": memory,
            "python": platform.python_version(), "kernel": platform.release()}


def read_path_table(results: dict[str, list[RoundResult]], concurrency: int) -> str:
    rows = [f"| target (concurrency {concurrency}) | req/s (median) | p50 ms | p99 ms | "
            f"errors | client CPU % |", "|---|---:|---:|---:|---:|---:|"]
    medians: dict[str, float] = {}
    for name, rounds in results.items():
        rps = statistics.median(r.rps for r in rounds)
        p50 = statistics.median(r.percentile(50) for r in rounds) * 1e3
        p99 = statistics.median(r.percentile(99) for r in rounds) * 1e3
        errors = sum(r.errors for r in rounds)
        cpu = statistics.median(100 * r.client_cpu_s / r.seconds for r in rounds)
        medians[name] = p50
        rows.append(f"| {name} | {rps:.0f} | {p50:.1f} | {p99:.1f} | {errors} | {cpu:.0f} |")
    if len(medians) == 2:
        via, direct = medians.values()
        rows.append(f"\nGateway + mesh adds {via - direct:.1f} ms at the median "
                    f"({via / direct:.1f}x the direct latency).")
    return "\n".join(rows)


def checkout_table(result: CheckoutResult, buyers: int) -> str:
    return "\n".join([
        f"| buyers | completed (PAID) | not PAID | errors | seconds | checkouts/s | "
        f"accept->PAID p50 ms | p99 ms |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
        f"| {buyers} | {result.completed} | {result.not_paid} | {result.errors} | "
        f"{result.seconds:.1f} | {result.per_second:.1f} | "
        f"{percentile(result.latencies_s, 50) * 1e3:.0f} | "
        f"{percentile(result.latencies_s, 99) * 1e3:.0f} |",
    ])


async def first_product_id(gateway_url: str) -> int:
    async with httpx.AsyncClient(base_url=gateway_url, timeout=10.0) as client:
        page = await _json(client.get("/api/v1/products", params={"limit": 1}), 200)
    if not page["items"]:
        raise SystemExit("the catalog is empty; is the platform seeded?")
    return int(page["items"][0]["id"])


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    topology = load_topology()
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--gateway-url", default=topology.gateway_url)
    parser.add_argument("--direct-url", default=topology.service_urls["product"],
                        help="product-service's own port (bypasses nginx and the mesh)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--requests", type=int, default=1500, help="per round and target")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--round-seconds", type=float, default=30.0,
                        help="upper bound of one round")
    parser.add_argument("--buyers", type=int, default=8)
    parser.add_argument("--checkouts", type=int, default=300)
    parser.add_argument("--checkout-seconds", type=float, default=60.0)
    parser.add_argument("--poll-interval", type=float, default=0.05,
                        help="order polling interval (s); bounds the latency resolution")
    parser.add_argument("--skip-checkout", action="store_true")
    return parser.parse_args(argv)


async def main_async(args: argparse.Namespace) -> None:
    info = machine()
    print("machine: " + ", ".join(f"{k}={v}" for k, v in info.items()))
    product_id = await first_product_id(args.gateway_url)
    print(f"\nread path: GET /api/v1/products/{product_id}, {args.rounds} interleaved rounds "
          f"x {args.requests} requests, concurrency {args.concurrency}")
    reads = await compare_read_path(args.gateway_url, args.direct_url.rstrip("/"), product_id,
                                    rounds=args.rounds, requests=args.requests,
                                    concurrency=args.concurrency, max_seconds=args.round_seconds)
    print("\n" + read_path_table(reads, args.concurrency))
    if args.skip_checkout:
        return
    print(f"\ncheckouts: {args.buyers} buyers, up to {args.checkouts} orders or "
          f"{args.checkout_seconds:.0f}s, polling every {args.poll_interval * 1e3:.0f} ms")
    checkouts = await checkout_throughput(args.gateway_url, buyers=args.buyers,
                                          checkouts=args.checkouts,
                                          max_seconds=args.checkout_seconds,
                                          poll_interval_s=args.poll_interval)
    print("\n" + checkout_table(checkouts, args.buyers))


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    runner: Callable[[Any], Any] = asyncio.run
    try:
        import uvloop

        runner = uvloop.run
    except ImportError:
        pass
    runner(main_async(args))


if __name__ == "__main__":
    main()
