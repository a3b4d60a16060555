"""CPU each platform process spends per request of a fixed workload, straight at order-service.

    python -m load.benchmarks.request_cpu [--gets 1000 --posts 100 --threads 4]

The checkout benchmark's CPU per checkout includes the buyers' polling, which grows with
the saga's latency (so with the machine's load). This workload does not depend on it:
one buyer (registered through the gateway), one order, then ``--gets`` polls of that order
and ``--posts`` new orders sent to order-service's own port; CPU per process (services,
Toxiproxy, nginx, the instance's PostgreSQL backends) before and after each part.
"""
from __future__ import annotations

import argparse
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx

from chaos.topology import load_topology
from load.benchmarks import platform_cpu

PASSWORD = "correct horse battery staple"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--gets", type=int, default=1000)
    parser.add_argument("--posts", type=int, default=100)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--settle", type=float, default=3.0,
                        help="seconds to wait after the POSTs for their sagas to finish")
    args = parser.parse_args(argv)
    topology = load_topology()
    gateway, order = topology.gateway_url, topology.service_urls["order"]
    databases = [topology.service(name).database for name in topology.service_urls]
    client = httpx.Client(timeout=10)
    email = f"request-cpu-{uuid.uuid4().hex[:8]}@example.com"
    client.post(f"{gateway}/api/v1/users",
                json={"email": email, "password": PASSWORD, "name": "bench"}).raise_for_status()
    token = client.post(f"{gateway}/api/v1/users/login",
                        json={"email": email, "password": PASSWORD}).json()["access_token"]
    auth = {"Authorization": f"Bearer {token}"}
    product_id = client.get(f"{gateway}/api/v1/products?limit=1").json()["items"][0]["id"]

    def post(_: int) -> int:
        answer = client.post(f"{order}/api/v1/orders",
                             headers={**auth, "Idempotency-Key": uuid.uuid4().hex},
                             json={"items": [{"product_id": product_id, "quantity": 1}],
                                   "payment_token": "tok_visa"})
        answer.raise_for_status()
        return int(answer.json()["id"])

    def get(order_id: int) -> None:
        client.get(f"{order}/api/v1/orders/{order_id}", headers=auth).raise_for_status()

    order_id = post(0)
    time.sleep(1)
    with ThreadPoolExecutor(args.threads) as pool:
        for label, count, work, settle in (
                ("GET /orders/{id}", args.gets, lambda _: get(order_id), 0.5),
                ("POST /orders with its saga", args.posts, post, args.settle)):
            if count <= 0:
                continue
            before = platform_cpu.snapshot(databases)
            list(pool.map(work, range(count)))
            time.sleep(settle)
            after = platform_cpu.snapshot(databases)
            spent = {name: 1e3 * seconds / count
                     for name, seconds in platform_cpu.spent(before, after).items()}
            print(f"{label}: CPU ms per request "
                  + ", ".join(f"{name} {ms:.2f}" for name, ms in spent.items())
                  + f"; total {sum(spent.values()):.1f}", flush=True)


if __name__ == "__main__":
    main()
