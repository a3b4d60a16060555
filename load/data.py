"""Test data of the load journeys: buyers, payment tokens, search terms and the products bought.

Why a module of its own: every journey, the capacity shape and the business checks must agree
on which products a run buys (so stock can be checked afterwards) and on the tokens that decide
a checkout's outcome. The products are created by the admin once per run, through the gateway,
with a client that is not a Locust user (setup is not load and must not show in the stats).
"""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import dataclass
from typing import Any

from geventhttpclient import HTTPClient
from geventhttpclient.url import URL

from chaos.topology import load_topology

APPROVED_TOKEN = "tok_visa"
"""The simulated processor approves this token (the order ends PAID)."""
DECLINED_TOKEN = "tok_chargeDeclined"
"""The simulated processor declines this token (the order ends PAYMENT_FAILED)."""
PASSWORD = "load-password-123"
SEARCH_TERMS = ("mug", "socks", "keyboard", "nordic", "classic", "eco", "pro", "lamp")
PAGE_SIZE = 20
PLENTY_STOCK = 1_000_000
"""Stock of the product bought by approved/declined checkouts: no run can exhaust it."""
SCARCE_STOCK = 3
"""Stock of the product asked for beyond its stock: never enough, so those orders are REJECTED."""
BEYOND_STOCK_QUANTITY = 50


@dataclass(slots=True, frozen=True)
class Catalog:
    """The products one run buys, created for it (SKUs unique per run)."""

    plenty_id: int
    scarce_id: int
    seeded_ids: tuple[int, ...]
    seeded_total: int
    """Products listed by the catalog when the run started (for paging offsets)."""

    @property
    def product_ids(self) -> tuple[int, int]:
        """The products whose stock the business checks follow."""
        return (self.plenty_id, self.scarce_id)

    @property
    def initial_stock(self) -> dict[int, int]:
        """Units each of the run's products was created with."""
        return {self.plenty_id: PLENTY_STOCK, self.scarce_id: SCARCE_STOCK}


@dataclass(slots=True, frozen=True)
class Buyer:
    email: str
    password: str
    name: str


def new_buyer() -> Buyer:
    """A buyer nobody registered yet (unique email per user instance)."""
    return Buyer(email=f"load-{uuid.uuid4().hex[:16]}@example.com", password=PASSWORD,
                 name="Load Buyer")


def idempotency_key() -> str:
    """One key per checkout attempt; a retry of the same attempt reuses it."""
    return uuid.uuid4().hex


def admin_credentials() -> tuple[str, str]:
    """The admin account from the environment or the topology's ``[settings]``."""
    settings = load_topology().settings
    return (os.environ.get("ADMIN_EMAIL") or settings.admin_email,
            os.environ.get("ADMIN_PASSWORD") or settings.admin_password)


class _SetupApi:
    """A small JSON client for setup calls (gevent-friendly, outside Locust's statistics)."""

    def __init__(self, base_url: str) -> None:
        self.client = HTTPClient.from_url(URL(base_url), concurrency=1, connection_timeout=10.0,
                                          network_timeout=30.0)

    def call(self, method: str, path: str, expected: int, body: Any = None,
             token: str | None = None) -> Any:
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        payload = None if body is None else json.dumps(body).encode()
        response = self.client.request(method, path, body=payload, headers=headers)
        try:
            data = response.read()
        finally:
            response.release()
        if response.status_code != expected:
            raise RuntimeError(f"setup {method} {path} -> {response.status_code}: {data[:300]!r}")
        return json.loads(data)

    def close(self) -> None:
        self.client.close()


def prepare_catalog(base_url: str) -> Catalog:
    """Create this run's two products as the admin and read the seeded catalog's size."""
    api = _SetupApi(base_url)
    try:
        email, password = admin_credentials()
        token = api.call("POST", "/api/v1/users/login", 200,
                         {"email": email, "password": password})["access_token"]
        run = uuid.uuid4().hex[:10]

        def product(kind: str, stock: int) -> int:
            body = {"sku": f"LOAD-{kind}-{run}", "name": f"Load {kind} widget",
                    "description": "created by a load run", "price": "9.99", "stock": stock}
            return int(api.call("POST", "/api/v1/products", 201, body, token)["id"])

        page = api.call("GET", f"/api/v1/products?limit={PAGE_SIZE}", 200)
        return Catalog(plenty_id=product("PLENTY", PLENTY_STOCK),
                       scarce_id=product("SCARCE", SCARCE_STOCK),
                       seeded_ids=tuple(int(item["id"]) for item in page["items"]),
                       seeded_total=int(page["total"]))
    finally:
        api.close()
