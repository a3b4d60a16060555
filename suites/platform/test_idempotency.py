"""Idempotency-Key on order creation: a retried POST never makes a second order."""
from __future__ import annotations

import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import allure
import httpx
import pytest

from suites.helpers import factories
from suites.helpers.factories import Account
from suites.helpers.problems import assert_problem

pytestmark = [pytest.mark.platform, allure.feature("Idempotency")]


def test_the_same_key_and_body_twice_makes_one_order(
        api: httpx.Client, buyer: Account, new_product: Callable[..., dict[str, Any]]) -> None:
    product = new_product(stock=10)
    items = [{"product_id": product["id"], "quantity": 1}]
    key = uuid.uuid4().hex

    first = factories.place_order(api, buyer, items, key=key)
    second = factories.place_order(api, buyer, items, key=key)

    assert first.status_code == 202, first.text
    assert second.status_code in (200, 202), second.text
    assert second.json()["id"] == first.json()["id"]
    listed = api.get(factories.ORDERS, headers=buyer.auth).json()
    assert listed["total"] == 1
    assert [o["id"] for o in listed["items"]] == [first.json()["id"]]
    assert factories.wait_for_order(api, buyer, first.json()["id"])["status"] == "PAID"
    assert len(factories.payments_of(api, buyer, first.json()["id"])) == 1
    assert factories.wait_for_stock(api, product["id"], 9) == 9, "stock taken twice"


def test_concurrent_retries_with_one_key_make_one_order(
        gateway_url: str, api: httpx.Client, buyer: Account,
        new_product: Callable[..., dict[str, Any]]) -> None:
    """A client that times out and retries in parallel still gets exactly one order."""
    product = new_product(stock=10)
    items = [{"product_id": product["id"], "quantity": 1}]
    key = uuid.uuid4().hex

    def attempt(_: int) -> httpx.Response:
        with httpx.Client(base_url=gateway_url, timeout=10.0) as client:
            return factories.place_order(client, buyer, items, key=key)

    with ThreadPoolExecutor(max_workers=5) as pool:
        answers = list(pool.map(attempt, range(5)))

    assert all(a.status_code in (200, 202) for a in answers), [a.text for a in answers]
    assert len({a.json()["id"] for a in answers}) == 1
    assert api.get(factories.ORDERS, headers=buyer.auth).json()["total"] == 1
    order_id = answers[0].json()["id"]
    assert factories.wait_for_order(api, buyer, order_id)["status"] == "PAID"
    assert len(factories.payments_of(api, buyer, order_id)) == 1
    assert factories.wait_for_stock(api, product["id"], 9) == 9


def test_the_same_key_with_another_body_is_a_conflict(
        api: httpx.Client, buyer: Account, new_product: Callable[..., dict[str, Any]]) -> None:
    product = new_product(stock=10)
    key = uuid.uuid4().hex
    accepted = factories.place_order(api, buyer, [{"product_id": product["id"], "quantity": 1}],
                                     key=key)
    assert accepted.status_code == 202, accepted.text

    conflict = factories.place_order(api, buyer, [{"product_id": product["id"], "quantity": 2}],
                                     key=key)

    assert_problem(conflict, 409)
    assert api.get(factories.ORDERS, headers=buyer.auth).json()["total"] == 1


def test_keys_belong_to_their_user(api: httpx.Client, buyer: Account, other_buyer: Account,
                                   new_product: Callable[..., dict[str, Any]]) -> None:
    """Two users who happen to pick the same key get two separate orders."""
    product = new_product(stock=10)
    items = [{"product_id": product["id"], "quantity": 1}]
    key = uuid.uuid4().hex

    mine = factories.place_order(api, buyer, items, key=key)
    theirs = factories.place_order(api, other_buyer, items, key=key)

    assert mine.status_code == 202 and theirs.status_code == 202, (mine.text, theirs.text)
    assert mine.json()["id"] != theirs.json()["id"]
    assert theirs.json()["user_id"] == other_buyer.id


def test_an_order_without_an_idempotency_key_is_a_bad_request(
        api: httpx.Client, buyer: Account, new_product: Callable[..., dict[str, Any]]) -> None:
    product = new_product(stock=10)
    body = {"items": [{"product_id": product["id"], "quantity": 1}], "payment_token": "tok_visa"}

    answer = api.post(factories.ORDERS, json=body, headers=buyer.auth)

    assert_problem(answer, 400)
    assert api.get(factories.ORDERS, headers=buyer.auth).json()["total"] == 0


@pytest.mark.parametrize("key", ["", "k" * 65], ids=["empty", "65-chars"])
def test_an_idempotency_key_outside_1_to_64_chars_is_refused(
        api: httpx.Client, buyer: Account, new_product: Callable[..., dict[str, Any]],
        key: str) -> None:
    product = new_product(stock=10)
    body = {"items": [{"product_id": product["id"], "quantity": 1}], "payment_token": "tok_visa"}

    answer = api.post(factories.ORDERS, json=body,
                      headers={**buyer.auth, "Idempotency-Key": key})

    assert answer.status_code in (400, 422), answer.text
    assert_problem(answer, answer.status_code)
    assert api.get(factories.ORDERS, headers=buyer.auth).json()["total"] == 0
