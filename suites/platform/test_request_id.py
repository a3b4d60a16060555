"""Request ids: every answer through the gateway carries X-Request-ID, the caller's if given."""
from __future__ import annotations

import uuid

import allure
import httpx
import pytest

from suites.helpers import factories

pytestmark = [pytest.mark.platform, allure.feature("Request ids")]


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/health"), ("GET", factories.PRODUCTS), ("GET", f"{factories.PRODUCTS}/999999999"),
     ("GET", factories.ORDERS), ("GET", "/api/v1/users/me"), ("POST", f"{factories.USERS}/login"),
     ("GET", "/api/v1/no-such-route")],
    ids=["health", "products-200", "product-404", "orders-401", "me-401", "login-422",
         "unrouted"],
)
def test_every_answer_carries_a_request_id(api: httpx.Client, method: str, path: str) -> None:
    answer = api.request(method, path, json={} if method == "POST" else None)

    assert answer.headers.get("x-request-id"), f"{method} {path} -> {answer.status_code}"


def test_request_ids_differ_between_requests(api: httpx.Client) -> None:
    ids = {api.get(factories.PRODUCTS, params={"limit": 1}).headers["x-request-id"]
           for _ in range(3)}

    assert len(ids) == 3


@pytest.mark.parametrize("path", ["/health", factories.PRODUCTS, factories.ORDERS],
                         ids=["health", "products", "orders-401"])
def test_a_caller_supplied_request_id_is_echoed(api: httpx.Client, path: str) -> None:
    request_id = f"caller-{uuid.uuid4()}"

    answer = api.get(path, headers={"X-Request-ID": request_id})

    assert answer.headers.get("x-request-id") == request_id
