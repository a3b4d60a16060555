"""The checkout saga seen from outside: an accepted order ends PAID, PAYMENT_FAILED or
REJECTED, with payments and stock that agree with that outcome."""
from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import allure
import httpx
import pytest

from suites.helpers import factories
from suites.helpers.factories import Account

pytestmark = [pytest.mark.platform, allure.feature("Checkout")]

ORDER_FIELDS = {"id", "user_id", "status", "items", "total", "currency", "created_at",
                "updated_at"}
PAYMENT_FIELDS = {"id", "order_id", "amount", "currency", "status", "created_at"}
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


def assert_order_schema(order: dict[str, Any]) -> None:
    assert set(order) == ORDER_FIELDS
    assert order["currency"] == "EUR"
    assert re.fullmatch(r"\d+\.\d{2}", order["total"]), order["total"]
    assert RFC3339.match(order["created_at"]) and RFC3339.match(order["updated_at"])
    for item in order["items"]:
        assert set(item) == {"product_id", "quantity", "unit_price"}
        assert re.fullmatch(r"\d+\.\d{2}", item["unit_price"]), item["unit_price"]


def checkout(api: httpx.Client, buyer: Account, product: dict[str, Any], quantity: int,
             payment_token: str) -> dict[str, Any]:
    """Place an order for one product and return the accepted (PENDING) order."""
    with allure.step(f"order {quantity} x product {product['id']} paying with {payment_token}"):
        answer = factories.place_order(api, buyer, [{"product_id": product["id"],
                                                     "quantity": quantity}],
                                       payment_token=payment_token)
        assert answer.status_code == 202, answer.text
        order = answer.json()
        assert_order_schema(order)
        assert order["status"] == "PENDING"
        assert order["user_id"] == buyer.id
        return dict(order)


def test_a_paid_order_charges_the_total_once_and_sells_the_stock(
        api: httpx.Client, buyer: Account, new_product: Callable[..., dict[str, Any]]) -> None:
    product = new_product(price="19.99", stock=10)

    order = checkout(api, buyer, product, 3, "tok_visa")
    assert order["items"] == [{"product_id": product["id"], "quantity": 3,
                               "unit_price": "19.99"}]
    assert Decimal(order["total"]) == Decimal("59.97")

    with allure.step("the saga completes"):
        final = factories.wait_for_order(api, buyer, order["id"])
        assert final["status"] == "PAID"
        assert_order_schema(final)
        assert final["total"] == order["total"]

    with allure.step("exactly one approved payment of the order total"):
        payments = factories.payments_of(api, buyer, order["id"])
        assert len(payments) == 1, payments
        payment = payments[0]
        assert set(payment) == PAYMENT_FIELDS
        assert payment["order_id"] == order["id"]
        assert payment["status"] == "APPROVED"
        assert payment["currency"] == "EUR"
        assert Decimal(payment["amount"]) == Decimal(order["total"])

    with allure.step("stock dropped by exactly the quantity"):
        assert factories.wait_for_stock(api, product["id"], 7) == 7

    with allure.step("the order is in the buyer's list"):
        listed = api.get(factories.ORDERS, headers=buyer.auth).json()
        assert [o["id"] for o in listed["items"]] == [order["id"]]
        assert listed["items"][0]["status"] == "PAID"


def test_a_declined_card_fails_the_order_and_releases_the_stock(
        api: httpx.Client, buyer: Account, new_product: Callable[..., dict[str, Any]]) -> None:
    product = new_product(price="5.00", stock=4)

    order = checkout(api, buyer, product, 2, "tok_chargeDeclined")

    final = factories.wait_for_order(api, buyer, order["id"])
    assert final["status"] == "PAYMENT_FAILED"

    payments = factories.payments_of(api, buyer, order["id"])
    assert [p["status"] for p in payments] == ["DECLINED"]
    assert Decimal(payments[0]["amount"]) == Decimal(order["total"])

    assert factories.wait_for_stock(api, product["id"], 4) == 4, "reservation not released"


def test_an_order_above_the_stock_is_rejected_and_nobody_is_charged(
        api: httpx.Client, buyer: Account, new_product: Callable[..., dict[str, Any]]) -> None:
    product = new_product(stock=2)

    order = checkout(api, buyer, product, 3, "tok_visa")

    final = factories.wait_for_order(api, buyer, order["id"])
    assert final["status"] == "REJECTED"
    assert factories.payments_of(api, buyer, order["id"]) == []
    assert factories.get_product(api, product["id"])["stock"] == 2


def test_an_order_for_stock_lowered_by_the_admin_is_rejected(
        api: httpx.Client, admin: str, buyer: Account,
        new_product: Callable[..., dict[str, Any]]) -> None:
    product = new_product(stock=50)
    patched = api.patch(f"{factories.PRODUCTS}/{product['id']}", json={"stock": 1},
                        headers=factories.bearer(admin))
    assert patched.status_code == 200 and patched.json()["stock"] == 1

    order = checkout(api, buyer, product, 2, "tok_visa")

    assert factories.wait_for_order(api, buyer, order["id"])["status"] == "REJECTED"
    assert factories.payments_of(api, buyer, order["id"]) == []


def test_a_terminal_order_never_changes(api: httpx.Client, buyer: Account,
                                        new_product: Callable[..., dict[str, Any]]) -> None:
    product = new_product(stock=5)
    order = checkout(api, buyer, product, 1, "tok_visa")
    final = factories.wait_for_order(api, buyer, order["id"])

    again = factories.get_order(api, buyer, order["id"])

    assert again == final


def test_an_order_of_several_products_totals_every_line(
        api: httpx.Client, buyer: Account, new_product: Callable[..., dict[str, Any]]) -> None:
    mug = new_product(price="7.25", stock=5)
    tea = new_product(price="3.10", stock=5)

    answer = factories.place_order(api, buyer, [{"product_id": mug["id"], "quantity": 2},
                                                {"product_id": tea["id"], "quantity": 3}])
    assert answer.status_code == 202, answer.text
    order = answer.json()
    assert Decimal(order["total"]) == Decimal("23.80")

    assert factories.wait_for_order(api, buyer, order["id"])["status"] == "PAID"
    assert factories.wait_for_stock(api, mug["id"], 3) == 3
    assert factories.wait_for_stock(api, tea["id"], 2) == 2
