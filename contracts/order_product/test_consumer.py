"""order-service's product read (``order_service.dependencies.price_of``) against product-service.

Driven through the real dependency code and a real svckit ``ServiceClient`` pointed at the
Pact mock server; order-service only relies on ``price`` and ``currency`` (and 404).
"""

from __future__ import annotations

import asyncio
from decimal import Decimal

import allure
from order_service.dependencies import price_of
from pact import match
from svckit.http_client import ServiceClient
from svckit.settings import ServiceSettings

from contracts.fixtures import PactFactory
from contracts.pactkit import CURRENCY, MONEY, ORDER, PROBLEM_JSON, PRODUCT

pytestmark = [allure.epic("contracts"), allure.feature("order-service -> product-service")]


async def _price(url: str, product_id: int) -> tuple[Decimal, str] | None:
    settings = ServiceSettings(service_name="order", http_attempts=1)  # type: ignore[call-arg]
    client = ServiceClient("product", url, settings)
    try:
        return await price_of(client, product_id)
    finally:
        await client.aclose()


def test_order_service_prices_a_product(pact_factory: PactFactory) -> None:
    pact = pact_factory(ORDER, PRODUCT)
    (pact.upon_receiving("a product read for pricing")
         .given("product {id} exists with price {price} and stock {stock}",
                {"id": 4201, "price": "19.99", "stock": 5})
         .with_request("GET", "/api/v1/products/4201")
         .will_respond_with(200)
         .with_header("Content-Type", "application/json")
         .with_body({"id": match.int(4201),
                     "price": match.regex("19.99", regex=MONEY),
                     "currency": match.regex("EUR", regex=CURRENCY),
                     "stock": match.int(5)}))
    with pact.serve() as server:
        priced = asyncio.run(_price(str(server.url), 4201))
    assert priced == (Decimal("19.99"), "EUR")


def test_order_service_sees_an_unknown_product(pact_factory: PactFactory) -> None:
    pact = pact_factory(ORDER, PRODUCT)
    (pact.upon_receiving("a product read for a product that does not exist")
         .given("product {id} does not exist", {"id": 4404})
         .with_request("GET", "/api/v1/products/4404")
         .will_respond_with(404)
         .with_header("Content-Type", PROBLEM_JSON)
         .with_body({"status": match.int(404), "detail": match.str("No such product")},
                    content_type=PROBLEM_JSON))
    with pact.serve() as server:
        assert asyncio.run(_price(str(server.url), 4404)) is None
