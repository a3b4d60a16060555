"""The checkout workload: buyers placing orders through the gateway while faults are in force.

It records every answer (for ``api_fails_well``) and every accepted order with its
idempotency key (for ``orders_complete``), and owns its products (for ``stock_conserved``).
Random choices come from the experiment's seed. Its own httpx clients, nothing global.
"""

from __future__ import annotations

import random
import threading
import time
import uuid
from dataclasses import dataclass, field

import httpx

from chaos.experiments.model import Workload
from chaos.invariants.base import TERMINAL, AcceptedOrder, HttpSample
from chaos.topology import Topology

USERS, PRODUCTS, ORDERS = "/api/v1/users", "/api/v1/products", "/api/v1/orders"
PASSWORD = "chaos-workload-password"


class WorkloadSetupFailed(RuntimeError):
    pass


@dataclass(slots=True, frozen=True)
class Buyer:
    user_id: int
    token: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass(slots=True)
class BuyerCache:
    """Buyers (and the admin token) kept across runs on one platform, as the matrix does:
    registering a buyer costs a password hash, which is most of a cell's set-up on a busy
    machine, and buyers are outside every invariant's scope (products and orders are the
    run's own). Entries are dropped well before the tokens expire."""

    max_age_s: float = 900.0
    entries: dict[tuple[str, int], tuple[float, str, list[Buyer]]] = \
        field(default_factory=dict)

    def get(self, base_url: str, count: int) -> tuple[str, list[Buyer]] | None:
        entry = self.entries.get((base_url, count))
        if entry is None or time.monotonic() - entry[0] > self.max_age_s:
            return None
        return entry[1], list(entry[2])

    def put(self, base_url: str, admin: str, buyers: list[Buyer]) -> None:
        self.entries[(base_url, len(buyers))] = (time.monotonic(), admin, list(buyers))


class CheckoutWorkload:
    def __init__(self, topology: Topology, spec: Workload, rng: random.Random,
                 buyer_cache: BuyerCache | None = None) -> None:
        self.buyer_cache = buyer_cache
        self.topology = topology
        self.spec = spec
        self.rng = rng
        self.base_url = topology.gateway_url
        self.samples: list[HttpSample] = []
        self.accepted: list[AcceptedOrder] = []
        self.product_ids: list[int] = []
        self.probe_product: int | None = None
        self.buyers: list[Buyer] = []
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()

    # ---- setup ---------------------------------------------------------------------------
    def setup(self) -> None:
        """Create the run's products (one scarce) and buyers through the gateway."""
        with httpx.Client(base_url=self.base_url, timeout=15.0) as client:
            settings = self.topology.settings
            cached = self.buyer_cache.get(self.base_url, self.spec.buyers + 1) \
                if self.buyer_cache is not None else None
            admin = cached[0] if cached else \
                self._token(client, settings.admin_email, settings.admin_password)
            run = uuid.uuid4().hex[:8]
            for index in range(self.spec.products + 2):
                stock = self.spec.scarce_stock if index == 0 else self.spec.stock_per_product
                body = {"sku": f"CHAOS-{run}-{index}", "name": f"Chaos product {run}-{index}",
                        "description": "created by a chaos experiment", "price": "10.00",
                        "stock": stock}
                answer = client.post(PRODUCTS, json=body, headers={"Authorization":
                                                                   f"Bearer {admin}"})
                if answer.status_code != 201:
                    raise WorkloadSetupFailed(f"create product: {answer.status_code} "
                                              f"{answer.text[:300]}")
                self.product_ids.append(int(answer.json()["id"]))
            self.probe_product = self.product_ids.pop()
            if cached:
                self.buyers = cached[1]
                return
            for index in range(self.spec.buyers + 1):
                email = f"chaos-{run}-{index}@example.com"
                made = client.post(USERS, json={"email": email, "password": PASSWORD,
                                                "name": f"Chaos buyer {index}"})
                if made.status_code != 201:
                    raise WorkloadSetupFailed(f"register: {made.status_code} {made.text[:300]}")
                self.buyers.append(Buyer(int(made.json()["id"]),
                                         self._token(client, email, PASSWORD)))
            if self.buyer_cache is not None:
                self.buyer_cache.put(self.base_url, admin, self.buyers)

    @staticmethod
    def _token(client: httpx.Client, email: str, password: str) -> str:
        answer = client.post(f"{USERS}/login", json={"email": email, "password": password})
        if answer.status_code != 200:
            raise WorkloadSetupFailed(f"login {email}: {answer.status_code} {answer.text[:300]}")
        return str(answer.json()["access_token"])

    # ---- the load ------------------------------------------------------------------------
    def start(self) -> None:
        for index in range(self.spec.workers):
            seed = self.rng.randrange(2**32)
            thread = threading.Thread(target=self._worker, args=(random.Random(seed),),
                                      daemon=True, name=f"checkout-worker-{index}")
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=self.spec.request_timeout_s + 5)

    def _worker(self, rng: random.Random) -> None:
        interval = self.spec.workers / max(self.spec.checkouts_per_s, 0.01)
        buyers = self.buyers[1:] or self.buyers
        with httpx.Client(base_url=self.base_url, timeout=self.spec.request_timeout_s) as client:
            next_at = time.monotonic()
            while not self._stop.is_set():
                buyer = rng.choice(buyers)
                product = rng.choice(self.product_ids)
                token = "tok_chargeDeclined" if rng.random() < self.spec.declined_ratio \
                    else "tok_visa"
                items = [{"product_id": product, "quantity": rng.randint(1, self.spec.max_quantity)}]
                self.place(client, buyer, items, token)
                self._get(client, f"{PRODUCTS}/{product}")
                next_at += interval
                self._stop.wait(max(0.0, next_at - time.monotonic()))

    def place(self, client: httpx.Client, buyer: Buyer, items: list[dict[str, int]],
              token: str) -> int | None:
        """POST one order; record the answer; return its id when accepted."""
        key = uuid.uuid4().hex
        headers = {**buyer.auth, "Idempotency-Key": key}
        answer = self._send(client, "POST", ORDERS, json={"items": items, "payment_token": token},
                            headers=headers)
        if answer is not None and answer.status_code in (200, 202):
            order_id = int(answer.json()["id"])
            with self._lock:
                self.accepted.append(AcceptedOrder(order_id, buyer.user_id, key, time.time()))
            return order_id
        return None

    def _get(self, client: httpx.Client, path: str) -> None:
        self._send(client, "GET", path)

    def _send(self, client: httpx.Client, method: str, path: str,
              **kwargs: object) -> httpx.Response | None:
        started, at = time.monotonic(), time.time()
        try:
            answer = client.request(method, path, **kwargs)  # type: ignore[arg-type]
        except httpx.HTTPError as exc:
            self.samples.append(HttpSample(method, _route(path), 0, time.monotonic() - started,
                                           at, error=type(exc).__name__))
            return None
        self.samples.append(HttpSample(method, _route(path), answer.status_code,
                                       time.monotonic() - started, at,
                                       content_type=answer.headers.get("content-type", "")))
        return answer

    # ---- the recovery probe --------------------------------------------------------------
    def checkout_probe(self, timeout_s: float) -> bool:
        """One fresh tok_visa checkout of the probe product; True once it is PAID."""
        assert self.probe_product is not None
        deadline = time.monotonic() + min(timeout_s, 30.0)
        buyer = self.buyers[0]
        with httpx.Client(base_url=self.base_url, timeout=self.spec.request_timeout_s) as client:
            order_id = self.place(client, buyer, [{"product_id": self.probe_product,
                                                   "quantity": 1}], "tok_visa")
            if order_id is None:
                time.sleep(0.5)
                return False
            while time.monotonic() < deadline:
                try:
                    answer = client.get(f"{ORDERS}/{order_id}", headers=buyer.auth)
                except httpx.HTTPError:
                    answer = None
                if answer is not None and answer.status_code == 200:
                    status = answer.json()["status"]
                    if status in TERMINAL:
                        return bool(status == "PAID")
                time.sleep(0.2)
        return False

    def all_product_ids(self) -> list[int]:
        return self.product_ids + ([self.probe_product] if self.probe_product else [])

    def stats(self) -> dict[str, object]:
        by_status: dict[str, int] = {}
        for sample in self.samples:
            by_status[str(sample.status)] = by_status.get(str(sample.status), 0) + 1
        latencies = sorted(s.elapsed_s for s in self.samples if s.status)
        def pct(p: float) -> float:
            return round(latencies[min(len(latencies) - 1, int(p * len(latencies)))], 3) \
                if latencies else 0.0
        return {"requests": len(self.samples), "by_status": by_status,
                "accepted_orders": len(self.accepted), "p50_s": pct(0.5), "p95_s": pct(0.95),
                "max_s": round(latencies[-1], 3) if latencies else 0.0,
                "products": self.all_product_ids()}


def _route(path: str) -> str:
    """``/api/v1/products/17`` → ``/api/v1/products/{id}`` (evidence stays readable)."""
    parts = ["{id}" if p.isdigit() else p for p in path.split("/")]
    return "/".join(parts)
