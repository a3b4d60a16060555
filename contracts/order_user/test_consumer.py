"""order-service's user look-up (``order_service.dependencies.check_user``) against user-service.

The consumer side drives the real dependency code with a real svckit ``ServiceClient``
pointed at the Pact mock server: what the pact records is what order-service sends.
"""

from __future__ import annotations

import asyncio

import allure
import pytest
from order_service.dependencies import check_user
from pact import match
from svckit.http_client import ServiceClient
from svckit.problems import Problem
from svckit.settings import ServiceSettings

from contracts.fixtures import PactFactory
from contracts.pactkit import EMAIL, ORDER, PROBLEM_JSON, USER

pytestmark = [allure.epic("contracts"), allure.feature("order-service -> user-service")]


def _settings() -> ServiceSettings:
    return ServiceSettings(service_name="order", http_attempts=1)  # type: ignore[call-arg]


async def _check(url: str, user_id: int) -> None:
    client = ServiceClient("user", url, _settings())
    try:
        await check_user(client, user_id)
    finally:
        await client.aclose()


def test_order_service_looks_up_an_existing_user(pact_factory: PactFactory) -> None:
    pact = pact_factory(ORDER, USER)
    (pact.upon_receiving("a user look-up for an existing user")
         .given("user {id} exists", {"id": 7001, "email": "ada@example.com", "name": "Ada"})
         .with_request("GET", "/internal/v1/users/7001")
         .will_respond_with(200)
         .with_header("Content-Type", "application/json")
         .with_body({"id": match.int(7001),
                     "email": match.regex("ada@example.com", regex=EMAIL),
                     "name": match.str("Ada")}))
    with pact.serve() as server:
        asyncio.run(_check(str(server.url), 7001))


def test_order_service_refuses_a_vanished_user(pact_factory: PactFactory) -> None:
    pact = pact_factory(ORDER, USER)
    (pact.upon_receiving("a user look-up for a user that does not exist")
         .given("user {id} does not exist", {"id": 7404})
         .with_request("GET", "/internal/v1/users/7404")
         .will_respond_with(404)
         .with_header("Content-Type", PROBLEM_JSON)
         .with_body({"status": match.int(404), "title": match.str("Not Found"),
                     "detail": match.str("No such user")}, content_type=PROBLEM_JSON))
    with pact.serve() as server, pytest.raises(Problem) as refused:
        asyncio.run(_check(str(server.url), 7404))
    assert refused.value.status == 401
