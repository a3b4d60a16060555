"""The storefront's user calls (register, login, profile) against user-service."""

from __future__ import annotations

import allure
import pytest
from pact import match

from chaos.storefront import ApiError, Storefront
from contracts.fixtures import PactFactory
from contracts.pactkit import (
    EMAIL,
    EXAMPLE_TOKEN,
    PROBLEM_JSON,
    STOREFRONT,
    USER,
    bearer_from_state,
)

pytestmark = [allure.epic("contracts"), allure.feature("storefront -> user-service")]

USER_DOC = {"id": match.int(7001), "email": match.regex("ada@example.com", regex=EMAIL),
            "name": match.str("Ada Lovelace")}


def test_register(pact_factory: PactFactory) -> None:
    pact = pact_factory(STOREFRONT, USER)
    (pact.upon_receiving("a registration")
         .given("no user has email {email}", {"email": "grace@example.com"})
         .with_request("POST", "/api/v1/users")
         .with_header("Content-Type", "application/json")
         .with_body({"email": "grace@example.com", "password": "correct-horse-battery",
                     "name": "Grace Hopper"})
         .will_respond_with(201)
         .with_header("Content-Type", "application/json")
         .with_body({"id": match.int(7002),
                     "email": match.regex("grace@example.com", regex=EMAIL),
                     "name": match.str("Grace Hopper")}))
    with pact.serve() as server, Storefront(str(server.url)) as shop:
        user = shop.register("grace@example.com", "correct-horse-battery", "Grace Hopper")
    assert user.email == "grace@example.com"


def test_login(pact_factory: PactFactory) -> None:
    pact = pact_factory(STOREFRONT, USER)
    (pact.upon_receiving("a login with good credentials")
         .given("user {email} exists with password {password}",
                {"email": "ada@example.com", "password": "correct-horse-battery"})
         .with_request("POST", "/api/v1/users/login")
         .with_body({"email": "ada@example.com", "password": "correct-horse-battery"})
         .will_respond_with(200)
         .with_header("Content-Type", "application/json")
         .with_body({"access_token": match.str(EXAMPLE_TOKEN),
                     "token_type": match.regex("bearer", regex=r"^bearer$"),
                     "expires_in": match.int(3600)}))
    with pact.serve() as server, Storefront(str(server.url)) as shop:
        token = shop.login("ada@example.com", "correct-horse-battery")
    assert token.token_type == "bearer" and token.expires_in_s == 3600


def test_login_with_a_wrong_password(pact_factory: PactFactory) -> None:
    pact = pact_factory(STOREFRONT, USER)
    (pact.upon_receiving("a login with a wrong password")
         .given("user {email} exists with password {password}",
                {"email": "ada@example.com", "password": "correct-horse-battery"})
         .with_request("POST", "/api/v1/users/login")
         .with_body({"email": "ada@example.com", "password": "wrong-password"})
         .will_respond_with(401)
         .with_header("Content-Type", PROBLEM_JSON)
         .with_body({"status": match.int(401), "title": match.str("Unauthorized"),
                     "detail": match.str("Invalid email or password")},
                    content_type=PROBLEM_JSON))
    with pact.serve() as server, Storefront(str(server.url)) as shop, \
            pytest.raises(ApiError) as refused:
        shop.login("ada@example.com", "wrong-password")
    assert refused.value.status == 401


def test_profile(pact_factory: PactFactory) -> None:
    pact = pact_factory(STOREFRONT, USER)
    (pact.upon_receiving("a request for the caller's profile")
         .given("user {id} exists", {"id": 7001, "email": "ada@example.com",
                                     "name": "Ada Lovelace"})
         .with_request("GET", "/api/v1/users/me")
         .with_header("Authorization", bearer_from_state())
         .will_respond_with(200)
         .with_header("Content-Type", "application/json")
         .with_body(USER_DOC))
    with pact.serve() as server, Storefront(str(server.url), token=EXAMPLE_TOKEN) as shop:
        me = shop.me()
    assert me.id == 7001 and me.name == "Ada Lovelace"
