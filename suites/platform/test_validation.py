"""Malformed and invalid requests: 400 for bodies that are not JSON, 422 with `errors` for
JSON that breaks the schema — always problem+json, never a stack trace."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import allure
import httpx
import pytest

from suites.helpers import factories
from suites.helpers.factories import Account
from suites.helpers.problems import assert_problem, assert_validation_problem

pytestmark = [pytest.mark.platform, allure.feature("Validation")]

JSON = {"Content-Type": "application/json"}


@pytest.mark.parametrize("body", [b"{not json", b'{"email": "a@b.c",', b"\xff\xfe"],
                         ids=["garbage", "truncated", "not-utf8"])
def test_a_body_that_is_not_json_is_a_bad_request(api: httpx.Client, body: bytes) -> None:
    assert_problem(api.post(factories.USERS, content=body, headers=JSON), 400)


def test_an_order_body_that_is_not_json_is_a_bad_request(api: httpx.Client,
                                                         buyer: Account) -> None:
    answer = api.post(factories.ORDERS, content=b"{items: [}",
                      headers={**JSON, **buyer.auth, "Idempotency-Key": "malformed-json"})

    assert_problem(answer, 400)


ORDER_VIOLATIONS: dict[str, Callable[[int], Any]] = {
    "quantity-0": lambda pid: {"items": [{"product_id": pid, "quantity": 0}],
                               "payment_token": "tok_visa"},
    "quantity-101": lambda pid: {"items": [{"product_id": pid, "quantity": 101}],
                                 "payment_token": "tok_visa"},
    "quantity-string": lambda pid: {"items": [{"product_id": pid, "quantity": "many"}],
                                    "payment_token": "tok_visa"},
    "unknown-payment-token": lambda pid: {"items": [{"product_id": pid, "quantity": 1}],
                                          "payment_token": "tok_unknown"},
    "missing-items": lambda pid: {"payment_token": "tok_visa"},
    "missing-payment-token": lambda pid: {"items": [{"product_id": pid, "quantity": 1}]},
    "missing-product-id": lambda pid: {"items": [{"quantity": 1}], "payment_token": "tok_visa"},
    "items-not-a-list": lambda pid: {"items": {"product_id": pid}, "payment_token": "tok_visa"},
    "json-array-not-object": lambda pid: [],
}


@pytest.mark.parametrize("violation", list(ORDER_VIOLATIONS), ids=list(ORDER_VIOLATIONS))
def test_an_order_that_breaks_the_schema_is_a_validation_error(
        api: httpx.Client, buyer: Account, new_product: Callable[..., dict[str, Any]],
        violation: str) -> None:
    product = new_product(stock=200)
    body = ORDER_VIOLATIONS[violation](product["id"])

    answer = api.post(factories.ORDERS, json=body,
                      headers={**buyer.auth, "Idempotency-Key": factories.unique(violation)})

    assert_validation_problem(answer)
    assert api.get(factories.ORDERS, headers=buyer.auth).json()["total"] == 0
    assert factories.get_product(api, product["id"])["stock"] == 200


USER_VIOLATIONS: dict[str, dict[str, Any]] = {
    "missing-email": {"password": "long-enough-pw", "name": "N"},
    "missing-password": {"email": "x@example.com", "name": "N"},
    "missing-name": {"email": "x@example.com", "password": "long-enough-pw"},
    "email-not-an-email": {"email": "not-an-email", "password": "long-enough-pw", "name": "N"},
    "password-not-a-string": {"email": "x@example.com", "password": 12345678, "name": "N"},
}


@pytest.mark.parametrize("violation", list(USER_VIOLATIONS), ids=list(USER_VIOLATIONS))
def test_a_registration_that_breaks_the_schema_is_a_validation_error(
        api: httpx.Client, violation: str) -> None:
    assert_validation_problem(api.post(factories.USERS, json=USER_VIOLATIONS[violation]))


def valid_product() -> dict[str, Any]:
    return {"sku": factories.unique("SKU"), "name": "n", "description": "d", "price": "1.00",
            "stock": 1}


PRODUCT_VIOLATIONS: dict[str, dict[str, Any]] = {
    "price-not-money": {"price": "abc"},
    "negative-stock": {"stock": -1},
    "stock-not-an-integer": {"stock": "lots"},
}


@pytest.mark.parametrize("violation", list(PRODUCT_VIOLATIONS), ids=list(PRODUCT_VIOLATIONS))
def test_a_product_that_breaks_the_schema_is_a_validation_error(
        api: httpx.Client, admin: str, violation: str) -> None:
    body = {**valid_product(), **PRODUCT_VIOLATIONS[violation]}

    assert_validation_problem(api.post(factories.PRODUCTS, json=body,
                                       headers=factories.bearer(admin)))


def test_a_product_without_a_sku_is_a_validation_error(api: httpx.Client, admin: str) -> None:
    body = valid_product()
    del body["sku"]

    assert_validation_problem(api.post(factories.PRODUCTS, json=body,
                                       headers=factories.bearer(admin)))
