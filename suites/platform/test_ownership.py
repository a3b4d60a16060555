"""Users see only their own orders and payments; someone else's is simply not found."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import allure
import httpx
import pytest

from suites.helpers import factories
from suites.helpers.factories import Account
from suites.helpers.problems import assert_problem

pytestmark = [pytest.mark.platform, allure.feature("Ownership")]


@pytest.fixture
def paid_order(api: httpx.Client, buyer: Account,
               new_product: Callable[..., dict[str, Any]]) -> dict[str, Any]:
    product = new_product(stock=5)
    answer = factories.place_order(api, buyer, [{"product_id": product["id"], "quantity": 1}])
    assert answer.status_code == 202, answer.text
    return factories.wait_for_order(api, buyer, answer.json()["id"])


def test_another_users_order_is_not_found(api: httpx.Client, paid_order: dict[str, Any],
                                          other_buyer: Account) -> None:
    answer = api.get(f"{factories.ORDERS}/{paid_order['id']}", headers=other_buyer.auth)

    assert_problem(answer, 404)


def test_another_users_order_is_not_in_my_list(api: httpx.Client, paid_order: dict[str, Any],
                                               other_buyer: Account) -> None:
    listed = api.get(factories.ORDERS, headers=other_buyer.auth).json()

    assert paid_order["id"] not in [o["id"] for o in listed["items"]]
    assert listed["total"] == 0


def test_another_users_payments_are_invisible(api: httpx.Client, paid_order: dict[str, Any],
                                              buyer: Account, other_buyer: Account) -> None:
    assert len(factories.payments_of(api, buyer, paid_order["id"])) == 1

    assert factories.payments_of(api, other_buyer, paid_order["id"]) == []
    everything = api.get(factories.PAYMENTS, headers=other_buyer.auth)
    if everything.status_code == 200:  # listing without order_id, where the API allows it
        assert everything.json()["items"] == []


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", factories.ORDERS), ("GET", f"{factories.ORDERS}/1"), ("POST", factories.ORDERS),
     ("GET", f"{factories.PAYMENTS}?order_id=1")],
    ids=["list-orders", "get-order", "create-order", "list-payments"],
)
def test_orders_and_payments_need_a_token(api: httpx.Client, method: str, path: str) -> None:
    body = {"items": [{"product_id": 1, "quantity": 1}], "payment_token": "tok_visa"}
    answer = api.request(method, path, headers={"Idempotency-Key": "no-token"},
                         json=body if method == "POST" else None)

    assert_problem(answer, 401)


def test_orders_refuse_a_bad_token(api: httpx.Client) -> None:
    answer = api.get(factories.ORDERS, headers=factories.bearer("bad.token.value"))

    assert_problem(answer, 401)


def test_an_unknown_order_is_not_found(api: httpx.Client, buyer: Account) -> None:
    assert_problem(api.get(f"{factories.ORDERS}/999999999", headers=buyer.auth), 404)
