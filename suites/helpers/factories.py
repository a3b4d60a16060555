"""Data factories for platform tests: fresh users, products and orders through the gateway.

Every factory makes unique data (a uuid in the email or sku) so tests stay independent
and can run in any order against a long-lived platform.
"""
from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from typing import Any

import httpx

from suites.helpers.waiting import poll_until

USERS = "/api/v1/users"
PRODUCTS = "/api/v1/products"
ORDERS = "/api/v1/orders"
PAYMENTS = "/api/v1/payments"

TERMINAL_STATUSES = frozenset({"PAID", "PAYMENT_FAILED", "REJECTED"})
DEFAULT_PASSWORD = "correct-horse-battery"
ORDER_DEADLINE_S = 30.0


@dataclass(slots=True, frozen=True)
class Account:
    """A registered, logged-in user."""

    id: int
    email: str
    name: str
    password: str
    token: str

    @property
    def auth(self) -> dict[str, str]:
        return bearer(self.token)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def unique_email(prefix: str = "buyer") -> str:
    return f"{unique(prefix)}@example.com"


def register(client: httpx.Client, *, email: str | None = None, password: str = DEFAULT_PASSWORD,
             name: str = "Test Buyer") -> httpx.Response:
    """POST /users (the raw answer, for tests that check it)."""
    body = {"email": email or unique_email(), "password": password, "name": name}
    return client.post(USERS, json=body)


def login(client: httpx.Client, email: str, password: str) -> httpx.Response:
    return client.post(f"{USERS}/login", json={"email": email, "password": password})


def new_account(client: httpx.Client, *, name: str = "Test Buyer") -> Account:
    """Register a fresh user with a unique email and log in."""
    email = unique_email()
    created = register(client, email=email, name=name)
    assert created.status_code == 201, f"register failed: {created.status_code} {created.text}"
    token = login(client, email, DEFAULT_PASSWORD)
    assert token.status_code == 200, f"login failed: {token.status_code} {token.text}"
    user = created.json()
    return Account(user["id"], email, name, DEFAULT_PASSWORD, token.json()["access_token"])


def admin_credentials() -> tuple[str, str]:
    """The configured admin account: ADMIN_EMAIL/ADMIN_PASSWORD, else the topology's settings.

    The backend hands the topology's `[settings]` to user-service, which seeds the admin
    from them, so reading the same declaration keeps one source of truth.
    """
    email = os.environ.get("ADMIN_EMAIL")
    password = os.environ.get("ADMIN_PASSWORD")
    if email and password:
        return email, password
    from chaos.topology import load_topology

    settings = load_topology().settings
    return email or settings.admin_email, password or settings.admin_password


def admin_token(client: httpx.Client) -> str:
    email, password = admin_credentials()
    answer = login(client, email, password)
    assert answer.status_code == 200, f"admin login failed: {answer.status_code} {answer.text}"
    return str(answer.json()["access_token"])


def create_product(client: httpx.Client, admin: str, *, stock: int = 100,
                   price: str = "19.99", name: str | None = None) -> dict[str, Any]:
    """An admin-created product with a unique sku (tests own their stock)."""
    sku = unique("SKU").upper()
    body = {
        "sku": sku,
        "name": name or f"Test product {sku}",
        "description": "created by the platform suite",
        "price": price,
        "stock": stock,
    }
    answer = client.post(PRODUCTS, json=body, headers=bearer(admin))
    assert answer.status_code == 201, f"create product failed: {answer.status_code} {answer.text}"
    return dict(answer.json())


def get_product(client: httpx.Client, product_id: int) -> dict[str, Any]:
    answer = client.get(f"{PRODUCTS}/{product_id}")
    assert answer.status_code == 200, f"get product failed: {answer.status_code} {answer.text}"
    return dict(answer.json())


def place_order(client: httpx.Client, account: Account, items: list[dict[str, int]], *,
                payment_token: str = "tok_visa", key: str | None = None,
                request_id: str | None = None) -> httpx.Response:
    """POST /orders with an Idempotency-Key (a fresh one unless given)."""
    headers = {**account.auth, "Idempotency-Key": key or uuid.uuid4().hex}
    if request_id is not None:
        headers["X-Request-ID"] = request_id
    return client.post(ORDERS, json={"items": items, "payment_token": payment_token},
                       headers=headers)


def get_order(client: httpx.Client, account: Account, order_id: int) -> dict[str, Any]:
    answer = client.get(f"{ORDERS}/{order_id}", headers=account.auth)
    assert answer.status_code == 200, f"get order failed: {answer.status_code} {answer.text}"
    return dict(answer.json())


def wait_for_order(client: httpx.Client, account: Account, order_id: int, *,
                   timeout: float = ORDER_DEADLINE_S) -> dict[str, Any]:
    """Poll an order until it reaches a terminal state (or the deadline; then assert)."""
    order = poll_until(lambda: get_order(client, account, order_id),
                       lambda o: o["status"] in TERMINAL_STATUSES, timeout=timeout)
    assert order["status"] in TERMINAL_STATUSES, (
        f"order {order_id} still {order['status']} after {timeout:.0f}s"
    )
    return order


def payments_of(client: httpx.Client, account: Account, order_id: int) -> list[dict[str, Any]]:
    answer = client.get(PAYMENTS, params={"order_id": order_id}, headers=account.auth)
    assert answer.status_code == 200, f"list payments failed: {answer.status_code} {answer.text}"
    return list(answer.json()["items"])


def wait_for_stock(client: httpx.Client, product_id: int, expected: int, *,
                   timeout: float = 15.0) -> int:
    """The product's stock once it equals `expected` (or the last value at the deadline).

    Compensation (releasing a reservation) runs after the order's terminal state is
    visible, so stock is checked with a deadline rather than once.
    """
    product = poll_until(lambda: get_product(client, product_id),
                         lambda p: p["stock"] == expected, timeout=timeout)
    return int(product["stock"])

