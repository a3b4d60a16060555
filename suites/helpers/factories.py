"""Data factories for platform tests: fresh users, products and orders through the gateway.

Every factory makes unique data (a uuid in the email or sku) so tests stay independent
and can run in any order against a long-lived platform. Every request is the storefront's
(``chaos.storefront``, the client the contract pacts are generated from), sent over the
test's own httpx client (so its exchange log still records it). Helpers that return a raw
answer send the storefront's call and hand back the response for the test to judge; the
others read the answer with the storefront's typed model (a drifted answer fails there) and
return the JSON document the tests index.
"""
from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from typing import Any

import httpx

from chaos import storefront as front
from chaos.storefront import Call, Calls, OrderLine, Storefront
from suites.helpers.waiting import poll_until

# The storefront's paths, for tests that build raw requests (validation, security).
USERS, PRODUCTS, ORDERS, PAYMENTS = front.USERS, front.PRODUCTS, front.ORDERS, front.PAYMENTS
TERMINAL_STATUSES = front.TERMINAL_STATUSES
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


def storefront(client: httpx.Client, token: str | None = None) -> Storefront:
    """The storefront over the test's client (shares its pool and its exchange log)."""
    return Storefront(str(client.base_url), http=client, token=token)


def _document(client: httpx.Client, token: str | None, call: Call[Any], what: str
              ) -> dict[str, Any]:
    """The answer's JSON document once the storefront could read it (else an assertion)."""
    answer = storefront(client, token).send(call)
    assert answer.is_success, f"{what} failed: {answer.status_code} {answer.text}"
    body = answer.json()
    call.read(answer.status_code, body)  # the typed model reads it, or the test fails here
    return dict(body)


def register(client: httpx.Client, *, email: str | None = None, password: str = DEFAULT_PASSWORD,
             name: str = "Test Buyer") -> httpx.Response:
    """POST /users (the raw answer, for tests that check it)."""
    return storefront(client).send(Calls.register(email or unique_email(), password, name))


def login(client: httpx.Client, email: str, password: str) -> httpx.Response:
    """POST /users/login (the raw answer)."""
    return storefront(client).send(Calls.login(email, password))


def new_account(client: httpx.Client, *, name: str = "Test Buyer") -> Account:
    """Register a fresh user with a unique email and log in."""
    email = unique_email()
    user = _document(client, None, Calls.register(email, DEFAULT_PASSWORD, name), "register")
    token = _document(client, None, Calls.login(email, DEFAULT_PASSWORD), "login")
    return Account(int(user["id"]), email, name, DEFAULT_PASSWORD, str(token["access_token"]))


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
    return str(_document(client, None, Calls.login(email, password),
                         "admin login")["access_token"])


def create_product(client: httpx.Client, admin: str, *, stock: int = 100,
                   price: str = "19.99", name: str | None = None) -> dict[str, Any]:
    """An admin-created product with a unique sku (tests own their stock)."""
    sku = unique("SKU").upper()
    call = Calls.create_product(sku=sku, name=name or f"Test product {sku}", price=price,
                                stock=stock, description="created by the platform suite")
    return _document(client, admin, call, "create product")


def get_product(client: httpx.Client, product_id: int) -> dict[str, Any]:
    return _document(client, None, Calls.get_product(product_id), "get product")


def place_order(client: httpx.Client, account: Account, items: list[dict[str, int]], *,
                payment_token: str = "tok_visa", key: str | None = None,
                request_id: str | None = None) -> httpx.Response:
    """POST /orders with an Idempotency-Key (a fresh one unless given); the raw answer."""
    call = Calls.place_order([OrderLine(i["product_id"], i["quantity"]) for i in items],
                             payment_token=payment_token, idempotency_key=key)
    if request_id is not None:
        call = call.with_headers(X_Request_ID=request_id)
    return storefront(client, account.token).send(call)


def get_order(client: httpx.Client, account: Account, order_id: int) -> dict[str, Any]:
    return _document(client, account.token, Calls.get_order(order_id), "get order")


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
    return list(_document(client, account.token, Calls.payments(order_id=order_id),
                          "list payments")["items"])


def wait_for_stock(client: httpx.Client, product_id: int, expected: int, *,
                   timeout: float = 15.0) -> int:
    """The product's stock once it equals `expected` (or the last value at the deadline).

    Compensation (releasing a reservation) runs after the order's terminal state is
    visible, so stock is checked with a deadline rather than once.
    """
    product = poll_until(lambda: get_product(client, product_id),
                         lambda p: p["stock"] == expected, timeout=timeout)
    return int(product["stock"])

