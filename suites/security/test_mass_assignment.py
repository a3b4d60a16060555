"""Property-level authorization (mass assignment): on every write operation, fields a client
must not set — an id, a role, a price, a total, a status, an owner, a currency, reserved or
sold units — are ignored (the models drop unknown fields), and what the server stores comes
from its own data. Each test checks the answer AND the stored row.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import jwt
import pytest

from suites.helpers import factories, platform_db
from suites.helpers.problems import assert_problem

pytestmark = [pytest.mark.platform]


def _claims(token: str) -> dict[str, Any]:
    return dict(jwt.decode(token, options={"verify_signature": False}))


def test_register_ignores_id_role_and_password_hash(api: httpx.Client,
                                                    running_platform: Any) -> None:
    email = factories.unique_email("massassign")
    body = {"email": email, "password": factories.DEFAULT_PASSWORD, "name": "Mallory",
            "id": 1, "role": "admin", "is_admin": True, "password_hash": "scrypt$1$1$1$AA==$AA=="}
    created = api.post("/api/v1/users", json=body)
    assert created.status_code == 201, created.text
    assert created.json()["id"] != 1
    stored = platform_db.rows(running_platform.topology, "user",
                              "SELECT id, role, password_hash FROM users WHERE email = $1", email)
    assert stored[0]["role"] == "user"
    assert stored[0]["password_hash"] != body["password_hash"]
    token = factories.login(api, email, factories.DEFAULT_PASSWORD).json()["access_token"]
    assert _claims(token)["role"] == "user"
    answer = api.post("/api/v1/products", headers=factories.bearer(token), json={
        "sku": factories.unique("MA").upper(), "name": "x", "price": "1.00", "stock": 1})
    assert_problem(answer, 403)


def test_login_cannot_ask_for_a_role(api: httpx.Client,
                                     new_account: Callable[[], factories.Account]) -> None:
    account = new_account()
    answer = api.post("/api/v1/users/login", json={
        "email": account.email, "password": account.password, "role": "admin", "sub": "1",
        "expires_in": 10**9})
    assert answer.status_code == 200
    claims = _claims(answer.json()["access_token"])
    assert claims["role"] == "user" and claims["sub"] == str(account.id)
    assert answer.json()["expires_in"] <= 7 * 24 * 3600


def test_product_create_and_patch_ignore_id_currency_and_counters(
        api: httpx.Client, admin_token: str, running_platform: Any) -> None:
    sku = factories.unique("MA").upper()
    created = api.post("/api/v1/products", headers=factories.bearer(admin_token), json={
        "sku": sku, "name": "Mass", "description": "", "price": "3.00", "stock": 5,
        "id": 1, "currency": "USD", "reserved": 99, "sold": 99})
    assert created.status_code == 201, created.text
    product = created.json()
    assert product["id"] != 1 and product["currency"] == "EUR" and product["stock"] == 5
    patched = api.patch(f"/api/v1/products/{product['id']}", headers=factories.bearer(admin_token),
                        json={"name": "Mass 2", "sku": "HIJACKED", "id": 1, "currency": "USD",
                              "reserved": 7, "sold": 7})
    assert patched.status_code == 200, patched.text
    assert patched.json()["sku"] == sku and patched.json()["currency"] == "EUR"
    row = platform_db.rows(running_platform.topology, "product",
                           "SELECT * FROM products WHERE id = $1", product["id"])[0]
    assert (row["sku"], row["currency"], row["stock"]) == (sku, "EUR", 5)
    for counter in ("reserved", "sold"):
        assert row.get(counter, 0) == 0, row


def test_an_order_takes_owner_prices_total_and_status_from_the_server(
        api: httpx.Client, running_platform: Any,
        new_account: Callable[[], factories.Account],
        new_product: Callable[..., dict[str, Any]]) -> None:
    buyer, victim = new_account(), new_account()
    product = new_product(price="7.50", stock=10)
    answer = api.post("/api/v1/orders", headers={**buyer.auth, "Idempotency-Key": "ma-1"}, json={
        "items": [{"product_id": product["id"], "quantity": 2, "unit_price": "0.01"}],
        "payment_token": "tok_visa", "user_id": victim.id, "status": "PAID", "total": "0.01",
        "currency": "USD", "id": 1})
    assert answer.status_code == 202, answer.text
    order = answer.json()
    assert order["user_id"] == buyer.id and order["status"] == "PENDING"
    assert order["total"] == "15.00" and order["currency"] == "EUR"
    assert order["items"][0]["unit_price"] == "7.50"
    stored = platform_db.rows(running_platform.topology, "order",
                              "SELECT user_id, total, currency FROM orders WHERE id = $1",
                              order["id"])[0]
    assert (stored["user_id"], f"{stored['total']:.2f}", stored["currency"]) == (
        buyer.id, "15.00", "EUR")
    assert api.get("/api/v1/orders", headers=victim.auth).json()["total"] == 0
