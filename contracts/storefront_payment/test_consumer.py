"""The storefront's payment read against payment-service."""

from __future__ import annotations

import allure
from pact import match

from chaos.storefront import Storefront
from contracts.fixtures import PactFactory
from contracts.pactkit import (
    CURRENCY,
    EXAMPLE_TOKEN,
    MONEY,
    PAYMENT,
    STOREFRONT,
    bearer_from_state,
)

pytestmark = [allure.epic("contracts"), allure.feature("storefront -> payment-service")]


def test_payments_of_an_order(pact_factory: PactFactory) -> None:
    pact = pact_factory(STOREFRONT, PAYMENT)
    (pact.upon_receiving("the payments of one of the caller's orders")
         .given("user {id} is logged in", {"id": 7001})
         .given("order {order_id} of user {uid} was charged",
                {"order_id": 9001, "uid": 7001, "status": "APPROVED", "amount": "39.98"})
         .with_request("GET", "/api/v1/payments")
         .with_query_parameter("order_id", "9001")
         .with_header("Authorization", bearer_from_state())
         .will_respond_with(200)
         .with_header("Content-Type", "application/json")
         .with_body({"items": match.each_like({
             "id": match.int(1), "order_id": match.int(9001),
             "amount": match.regex("39.98", regex=MONEY),
             "currency": match.regex("EUR", regex=CURRENCY),
             "status": match.regex("APPROVED", regex=r"^(APPROVED|DECLINED)$"),
             "created_at": match.datetime("2026-12-01T20:42:24.123456Z",
                                          format="yyyy-MM-dd'T'HH:mm:ss.SSSSSSXXX",
                                          disable_conversion=True)},
             min=1)}))
    with pact.serve() as server, Storefront(str(server.url), token=EXAMPLE_TOKEN) as shop:
        payments = shop.payments(order_id=9001)
    assert [p.status for p in payments] == ["APPROVED"]
