"""Request ids: every answer through the gateway carries X-Request-ID, the caller's if given,
and one checkout's id reaches every service it touches, over HTTP and over AMQP."""
from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import allure
import httpx
import pytest

from suites.helpers import factories
from suites.helpers.waiting import poll_until

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


def _log_lines_with(path: Path, request_id: str) -> list[dict[str, Any]]:
    lines = []
    for raw in path.read_text(errors="replace").splitlines():
        if request_id in raw:
            try:
                lines.append(json.loads(raw))
            except ValueError:
                continue
    return [line for line in lines if line.get("request_id") == request_id]


def test_one_checkout_carries_its_request_id_through_every_service(
        api: httpx.Client, buyer: factories.Account, new_product: Any,
        running_platform: Any) -> None:
    """order (HTTP) -> user, product (HTTP hops) -> product, payment (AMQP hops): one id."""
    request_id = f"checkout-{uuid.uuid4().hex}"
    product = new_product(stock=5)
    with allure.step(f"place an order with X-Request-ID {request_id}"):
        answer = factories.place_order(
            api, buyer, [{"product_id": product["id"], "quantity": 1}], request_id=request_id)
        assert answer.status_code == 202, answer.text
        assert answer.headers["x-request-id"] == request_id
    order = factories.wait_for_order(api, buyer, answer.json()["id"])
    assert order["status"] == "PAID"
    for service in ("order", "user", "product", "payment"):
        with allure.step(f"{service}-service logged the request id"):
            log = running_platform.log_path(service)
            found = poll_until(lambda log=log: _log_lines_with(log, request_id), bool, timeout=5.0)
            assert found, f"{service}-service never logged request id {request_id} ({log})"
