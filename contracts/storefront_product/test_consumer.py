"""The storefront's catalog calls (browse, read, admin create/patch) against product-service."""

from __future__ import annotations

from decimal import Decimal

import allure
import pytest
from pact import match

from chaos.storefront import ApiError, Storefront
from contracts.fixtures import PactFactory
from contracts.pactkit import (
    CURRENCY,
    EXAMPLE_TOKEN,
    MONEY,
    PROBLEM_JSON,
    PRODUCT,
    SKU,
    STOREFRONT,
    bearer_from_state,
)

pytestmark = [allure.epic("contracts"), allure.feature("storefront -> product-service")]


def product_doc(product_id: int = 4201, price: str = "19.99", stock: int = 5) -> dict[str, object]:
    return {"id": match.int(product_id), "sku": match.regex("PACT-4201", regex=SKU),
            "name": match.str("Nordic Wool Socks"), "description": match.str(""),
            "price": match.regex(price, regex=MONEY),
            "currency": match.regex("EUR", regex=CURRENCY), "stock": match.int(stock)}


def test_browse_the_catalog(pact_factory: PactFactory) -> None:
    pact = pact_factory(STOREFRONT, PRODUCT)
    (pact.upon_receiving("a page of the catalog")
         .given("the catalog has at least {count} products", {"count": 2})
         .with_request("GET", "/api/v1/products")
         .with_query_parameter("limit", "2")
         .with_query_parameter("offset", "0")
         .will_respond_with(200)
         .with_header("Content-Type", "application/json")
         .with_body({"items": match.each_like(product_doc(), min=1), "total": match.int(50),
                     "limit": match.int(2), "offset": match.int(0)}))
    with pact.serve() as server, Storefront(str(server.url)) as shop:
        page = shop.list_products(limit=2, offset=0)
    assert page.items and page.items[0].price == Decimal("19.99")


def test_search_the_catalog(pact_factory: PactFactory) -> None:
    """What the search journey sends (``q``, a page size, offset 0)."""
    pact = pact_factory(STOREFRONT, PRODUCT)
    (pact.upon_receiving("a search of the catalog")
         .given("the catalog has a product named {name}", {"id": 4310, "name": "Pact lamp"})
         .with_request("GET", "/api/v1/products")
         .with_query_parameter("q", "lamp")
         .with_query_parameter("limit", "20")
         .with_query_parameter("offset", "0")
         .will_respond_with(200)
         .with_header("Content-Type", "application/json")
         .with_body({"items": match.each_like({**product_doc(4310),
                                               "name": match.str("Pact lamp")}, min=1),
                     "total": match.int(1), "limit": match.int(20), "offset": match.int(0)}))
    with pact.serve() as server, Storefront(str(server.url)) as shop:
        page = shop.list_products(q="lamp", limit=20)
    assert page.items and page.total >= 1


def test_read_a_product(pact_factory: PactFactory) -> None:
    pact = pact_factory(STOREFRONT, PRODUCT)
    (pact.upon_receiving("a read of one product")
         .given("product {id} exists with price {price} and stock {stock}",
                {"id": 4201, "price": "19.99", "stock": 5})
         .with_request("GET", "/api/v1/products/4201")
         .will_respond_with(200)
         .with_header("Content-Type", "application/json")
         .with_body(product_doc()))
    with pact.serve() as server, Storefront(str(server.url)) as shop:
        product = shop.get_product(4201)
    assert product.stock == 5 and product.currency == "EUR"


def test_read_a_missing_product(pact_factory: PactFactory) -> None:
    pact = pact_factory(STOREFRONT, PRODUCT)
    (pact.upon_receiving("a read of a product that does not exist")
         .given("product {id} does not exist", {"id": 4404})
         .with_request("GET", "/api/v1/products/4404")
         .will_respond_with(404)
         .with_header("Content-Type", PROBLEM_JSON)
         .with_body({"status": match.int(404), "title": match.str("Not Found"),
                     "detail": match.str("No such product")}, content_type=PROBLEM_JSON))
    with pact.serve() as server, Storefront(str(server.url)) as shop, \
            pytest.raises(ApiError) as missing:
        shop.get_product(4404)
    assert missing.value.status == 404


def test_admin_adds_a_product(pact_factory: PactFactory) -> None:
    pact = pact_factory(STOREFRONT, PRODUCT)
    (pact.upon_receiving("an admin adding a product")
         .given("an admin is logged in", {"id": 7900})
         .given("no product has sku {sku}", {"sku": "PACT-NEW-1"})
         .with_request("POST", "/api/v1/products")
         .with_header("Authorization", bearer_from_state())
         .with_body({"sku": "PACT-NEW-1", "name": "Pact Lamp", "description": "",
                     "price": "39.00", "stock": 7}, content_type="application/json")
         .will_respond_with(201)
         .with_header("Content-Type", "application/json")
         .with_body({**product_doc(price="39.00", stock=7),
                     "sku": match.regex("PACT-NEW-1", regex=SKU),
                     "name": match.str("Pact Lamp")}))
    with pact.serve() as server, Storefront(str(server.url), token=EXAMPLE_TOKEN) as shop:
        product = shop.create_product(sku="PACT-NEW-1", name="Pact Lamp", price="39.00",
                                      stock=7)
    assert product.stock == 7


def test_admin_changes_the_stock(pact_factory: PactFactory) -> None:
    pact = pact_factory(STOREFRONT, PRODUCT)
    (pact.upon_receiving("an admin setting a product's stock")
         .given("an admin is logged in", {"id": 7900})
         .given("product {id} exists with price {price} and stock {stock}",
                {"id": 4201, "price": "19.99", "stock": 5})
         .with_request("PATCH", "/api/v1/products/4201")
         .with_header("Authorization", bearer_from_state())
         .with_body({"stock": 12}, content_type="application/json")
         .will_respond_with(200)
         .with_header("Content-Type", "application/json")
         .with_body(product_doc(stock=12)))
    with pact.serve() as server, Storefront(str(server.url), token=EXAMPLE_TOKEN) as shop:
        product = shop.update_product(4201, stock=12)
    assert product.stock == 12
