"""Users: registration, login, the caller's own profile, and authentication failures."""
from __future__ import annotations

import allure
import httpx
import pytest

from suites.helpers import factories
from suites.helpers.problems import assert_problem, assert_validation_problem

pytestmark = [pytest.mark.platform, allure.feature("Accounts")]


def test_a_new_user_registers_logs_in_and_reads_their_profile(api: httpx.Client) -> None:
    email = factories.unique_email()

    with allure.step("register"):
        created = factories.register(api, email=email, name="Ada Buyer")
        assert created.status_code == 201
        user = created.json()
        assert set(user) == {"id", "email", "name"}
        assert isinstance(user["id"], int)
        assert user["email"] == email
        assert user["name"] == "Ada Buyer"

    with allure.step("log in"):
        answer = factories.login(api, email, factories.DEFAULT_PASSWORD)
        assert answer.status_code == 200
        token = answer.json()
        assert token["token_type"] == "bearer"
        assert isinstance(token["access_token"], str) and token["access_token"]
        assert isinstance(token["expires_in"], int) and token["expires_in"] > 0

    with allure.step("read /users/me"):
        me = api.get("/api/v1/users/me", headers=factories.bearer(token["access_token"]))
        assert me.status_code == 200
        assert me.json() == user


def test_an_email_can_register_only_once(api: httpx.Client) -> None:
    email = factories.unique_email()
    assert factories.register(api, email=email).status_code == 201

    assert_problem(factories.register(api, email=email), 409)


def test_login_with_a_wrong_password_is_unauthorized(api: httpx.Client,
                                                     buyer: factories.Account) -> None:
    assert_problem(factories.login(api, buyer.email, "not-the-password"), 401)


def test_login_for_an_unknown_email_is_unauthorized(api: httpx.Client) -> None:
    assert_problem(factories.login(api, factories.unique_email(), "whatever-123"), 401)


@pytest.mark.parametrize("password", ["short", "x" * 129], ids=["7-chars", "129-chars"])
def test_a_password_outside_8_to_128_chars_is_a_validation_error(api: httpx.Client,
                                                                 password: str) -> None:
    assert_validation_problem(factories.register(api, password=password))


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer not-a-jwt"}, {"Authorization": "Basic dXNlcjpwYXNz"}],
    ids=["no-token", "garbage-token", "wrong-scheme"],
)
def test_profile_without_a_valid_token_is_unauthorized(api: httpx.Client,
                                                       headers: dict[str, str]) -> None:
    assert_problem(api.get("/api/v1/users/me", headers=headers), 401)


def test_a_token_signed_with_another_key_is_unauthorized(api: httpx.Client,
                                                         buyer: factories.Account) -> None:
    import time

    import jwt

    forged = jwt.encode({"sub": str(buyer.id), "exp": int(time.time()) + 600},
                        "not-the-platform-secret-but-long-enough-for-hs256", algorithm="HS256")
    assert_problem(api.get("/api/v1/users/me", headers=factories.bearer(forged)), 401)
