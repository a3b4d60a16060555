"""Products: listing with pagination and search, the product schema, and admin-only writes."""
from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import allure
import httpx
import pytest

from suites.helpers import factories
from suites.helpers.problems import assert_problem, assert_validation_problem

pytestmark = [pytest.mark.platform, allure.feature("Catalog")]

PRODUCT_FIELDS = {"id", "sku", "name", "description", "price", "currency", "stock"}
MONEY = re.compile(r"^\d+\.\d{2}$")


def assert_product_schema(product: dict[str, Any]) -> None:
    assert set(product) == PRODUCT_FIELDS
    assert isinstance(product["id"], int)
    for text in ("sku", "name", "description"):
        assert isinstance(product[text], str)
    assert isinstance(product["price"], str) and MONEY.match(product["price"]), product["price"]
    assert product["currency"] == "EUR"
    assert isinstance(product["stock"], int) and product["stock"] >= 0


def test_the_catalog_lists_seeded_products_with_default_pagination(api: httpx.Client) -> None:
    answer = api.get(factories.PRODUCTS)

    assert answer.status_code == 200
    page = answer.json()
    assert set(page) == {"items", "total", "limit", "offset"}
    assert page["limit"] == 20 and page["offset"] == 0
    assert page["total"] >= 1, "the platform seeds a catalog on first start"
    assert 1 <= len(page["items"]) <= 20
    assert len(page["items"]) == min(20, page["total"])
    for product in page["items"]:
        assert_product_schema(product)


def test_limit_and_offset_page_through_the_catalog(api: httpx.Client) -> None:
    first = api.get(factories.PRODUCTS, params={"limit": 1, "offset": 0}).json()
    second = api.get(factories.PRODUCTS, params={"limit": 1, "offset": 1}).json()

    assert first["limit"] == 1 and len(first["items"]) == 1
    assert second["offset"] == 1
    if first["total"] >= 2:
        assert first["items"][0]["id"] != second["items"][0]["id"]


@pytest.mark.parametrize("limit", [1, 100], ids=["min-1", "max-100"])
def test_limit_accepts_its_bounds(api: httpx.Client, limit: int) -> None:
    answer = api.get(factories.PRODUCTS, params={"limit": limit})

    assert answer.status_code == 200
    assert answer.json()["limit"] == limit
    assert len(answer.json()["items"]) <= limit


@pytest.mark.parametrize("limit", [0, 101, -1], ids=["zero", "101", "negative"])
def test_limit_outside_1_to_100_is_a_validation_error(api: httpx.Client, limit: int) -> None:
    assert_validation_problem(api.get(factories.PRODUCTS, params={"limit": limit}))


def test_search_finds_a_product_by_name(api: httpx.Client,
                                        new_product: Callable[..., dict[str, Any]]) -> None:
    word = factories.unique("zephyr")
    product = new_product(name=f"The {word} kettle")

    page = api.get(factories.PRODUCTS, params={"q": word}).json()

    assert [item["id"] for item in page["items"]] == [product["id"]]
    assert page["total"] == 1


def test_search_without_matches_is_an_empty_page(api: httpx.Client) -> None:
    page = api.get(factories.PRODUCTS, params={"q": factories.unique("nothing-like-this")}).json()

    assert page["items"] == [] and page["total"] == 0


def test_one_product_has_the_exact_schema(api: httpx.Client,
                                          new_product: Callable[..., dict[str, Any]]) -> None:
    created = new_product(price="12.50", stock=7)

    answer = api.get(f"{factories.PRODUCTS}/{created['id']}")

    assert answer.status_code == 200
    product = answer.json()
    assert_product_schema(product)
    assert product == created
    assert product["price"] == "12.50" and product["stock"] == 7


def test_an_unknown_product_is_not_found(api: httpx.Client) -> None:
    assert_problem(api.get(f"{factories.PRODUCTS}/999999999"), 404)


def test_the_admin_patches_price_and_stock(api: httpx.Client, admin: str,
                                           new_product: Callable[..., dict[str, Any]]) -> None:
    product = new_product(price="10.00", stock=3)

    answer = api.patch(f"{factories.PRODUCTS}/{product['id']}",
                       json={"price": "11.25", "stock": 9}, headers=factories.bearer(admin))

    assert answer.status_code == 200
    assert answer.json() == {**product, "price": "11.25", "stock": 9}
    assert factories.get_product(api, product["id"]) == answer.json()


def test_a_non_admin_cannot_create_products(api: httpx.Client, buyer: factories.Account) -> None:
    body = {"sku": factories.unique("SKU"), "name": "x", "description": "x",
            "price": "1.00", "stock": 1}

    assert_problem(api.post(factories.PRODUCTS, json=body, headers=buyer.auth), 403)


def test_creating_a_product_needs_a_token(api: httpx.Client) -> None:
    body = {"sku": factories.unique("SKU"), "name": "x", "description": "x",
            "price": "1.00", "stock": 1}

    assert_problem(api.post(factories.PRODUCTS, json=body), 401)


def test_a_sku_is_unique(api: httpx.Client, admin: str,
                         new_product: Callable[..., dict[str, Any]]) -> None:
    existing = new_product()
    body = {"sku": existing["sku"], "name": "dup", "description": "dup",
            "price": "1.00", "stock": 1}

    assert_problem(api.post(factories.PRODUCTS, json=body, headers=factories.bearer(admin)), 409)
