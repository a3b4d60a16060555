"""The storefront's order calls (place, read, list) against order-service."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import allure
import pytest
from pact import match

from chaos.storefront import ApiError, OrderLine, Storefront
from contracts.fixtures import PactFactory
from contracts.pactkit import (
    CURRENCY,
    EXAMPLE_TOKEN,
    MONEY,
    ORDER,
    PROBLEM_JSON,
    RFC3339,
    STOREFRONT,
    bearer_from_state,
)

pytestmark = [allure.epic("contracts"), allure.feature("storefront -> order-service")]

STATUS = r"^(PENDING|PAID|PAYMENT_FAILED|REJECTED)$"


def order_doc(status: Any) -> dict[str, Any]:
    return {
        "id": match.int(9001), "user_id": match.int(7001), "status": status,
        "items": match.each_like({"product_id": match.int(4201), "quantity": match.int(2),
                                  "unit_price": match.regex("19.99", regex=MONEY)}, min=1),
        "total": match.regex("39.98", regex=MONEY),
        "currency": match.regex("EUR", regex=CURRENCY),
        "created_at": match.regex("2026-12-01T20:42:24.123456Z", regex=RFC3339),
        "updated_at": match.regex("2026-12-01T20:42:24.123456Z", regex=RFC3339),
    }


def test_place_an_order(pact_factory: PactFactory) -> None:
    pact = pact_factory(STOREFRONT, ORDER)
    (pact.upon_receiving("an order for an existing product")
         .given("user {id} is logged in", {"id": 7001})
         .given("product {id} exists with price {price} and stock {stock}",
                {"id": 4201, "price": "19.99", "stock": 5})
         .given("user {id} has not used idempotency key {key}",
                {"id": 7001, "key": "checkout-1"})
         .with_request("POST", "/api/v1/orders")
         .with_header("Authorization", bearer_from_state())
         .with_header("Idempotency-Key", match.regex("checkout-1", regex=r"^\S{1,64}$"))
         .with_body({"items": [{"product_id": 4201, "quantity": 2}],
                     "payment_token": "tok_visa"}, content_type="application/json")
         .will_respond_with(202)
         .with_header("Content-Type", "application/json")
         .with_body(order_doc(match.regex("PENDING", regex=r"^PENDING$"))))
    with pact.serve() as server, Storefront(str(server.url), token=EXAMPLE_TOKEN) as shop:
        placed = shop.place_order([OrderLine(4201, 2)], idempotency_key="checkout-1")
    assert placed.order.status == "PENDING" and not placed.replayed
    assert placed.order.total == Decimal("39.98")


def test_read_an_order(pact_factory: PactFactory) -> None:
    pact = pact_factory(STOREFRONT, ORDER)
    (pact.upon_receiving("a read of the caller's order")
         .given("user {id} is logged in", {"id": 7001})
         .given("order {id} belongs to user {uid}", {"id": 9001, "uid": 7001, "status": "PAID"})
         .with_request("GET", "/api/v1/orders/9001")
         .with_header("Authorization", bearer_from_state())
         .will_respond_with(200)
         .with_header("Content-Type", "application/json")
         .with_body(order_doc(match.regex("PAID", regex=STATUS))))
    with pact.serve() as server, Storefront(str(server.url), token=EXAMPLE_TOKEN) as shop:
        order = shop.get_order(9001)
    assert order.terminal and order.items[0].unit_price == Decimal("19.99")


def test_another_users_order_is_not_found(pact_factory: PactFactory) -> None:
    pact = pact_factory(STOREFRONT, ORDER)
    (pact.upon_receiving("a read of another user's order")
         .given("user {id} is logged in", {"id": 7001})
         .given("order {id} belongs to user {uid}", {"id": 9002, "uid": 7002})
         .with_request("GET", "/api/v1/orders/9002")
         .with_header("Authorization", bearer_from_state())
         .will_respond_with(404)
         .with_header("Content-Type", PROBLEM_JSON)
         .with_body({"status": match.int(404), "detail": match.str("No such order")},
                    content_type=PROBLEM_JSON))
    with pact.serve() as server, Storefront(str(server.url), token=EXAMPLE_TOKEN) as shop, \
            pytest.raises(ApiError) as hidden:
        shop.get_order(9002)
    assert hidden.value.status == 404


def test_list_orders(pact_factory: PactFactory) -> None:
    pact = pact_factory(STOREFRONT, ORDER)
    (pact.upon_receiving("a page of the caller's orders")
         .given("user {id} is logged in", {"id": 7001})
         .given("order {id} belongs to user {uid}", {"id": 9001, "uid": 7001, "status": "PAID"})
         .with_request("GET", "/api/v1/orders")
         .with_query_parameter("limit", "20")
         .with_query_parameter("offset", "0")
         .with_header("Authorization", bearer_from_state())
         .will_respond_with(200)
         .with_header("Content-Type", "application/json")
         .with_body({"items": match.each_like(order_doc(match.regex("PAID", regex=STATUS)),
                                              min=1),
                     "total": match.int(1), "limit": match.int(20), "offset": match.int(0)}))
    with pact.serve() as server, Storefront(str(server.url), token=EXAMPLE_TOKEN) as shop:
        page = shop.list_orders()
    assert page.total >= 1 and page.items[0].user_id == 7001
