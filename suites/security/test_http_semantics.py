"""HTTP semantics the adversarial pass found loose (issue 11), each pinned down:

- HEAD wherever GET is served: the GET's status and headers, no body — directly and through
  the gateway (it answered 405);
- one canonical spelling per id: `/products/1.0`, `/products/+1`, `/products/%D9%A1`
  (Arabic-Indic one), `/products/01` are 422, not product 1; in a JSON body an integer is
  an integer literal: `1.0`, `1e0`, `"1"`, `true` and `1.5` are 422 on every write operation
  (svckit/types.py; the fuzzer spells whole numbers as integers, chaos/fuzz/hooks_integers.py);
- a JSON body must say `application/json`: `text/plain` or no content type is a 415 problem
  (it was a puzzling 422 "not an object"), declared in every document with a request body;
- the limits of an order (50 lines, quantity 1–100) are in the public API description.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import orjson
import pytest

from suites.helpers import factories
from suites.helpers.problems import assert_problem, assert_validation_problem

pytestmark = [pytest.mark.platform]

GET_PATHS = [("product", "/api/v1/products"), ("product", "/api/v1/products/1"),
             ("user", "/api/v1/users/me"), ("order", "/api/v1/orders"),
             ("payment", "/api/v1/payments"), ("product", "/api/v1/products/999999999"),
             ("order", "/health/live")]
NON_CANONICAL_IDS = ["1.0", "+1", "%D9%A1", "01", "1e0", "0x1", "%201", "1%20", "%EF%BC%91"]


def _bases(gateway_url: str, service_urls: dict[str, str], service: str,
           path: str) -> list[str]:
    return [service_urls[service]] + ([] if path.startswith("/health") else [gateway_url])


@pytest.mark.parametrize(("service", "path"), GET_PATHS, ids=lambda v: str(v))
def test_head_is_answered_like_get_without_a_body(
        gateway_url: str, service_urls: dict[str, str], service: str, path: str,
        new_account: Callable[[], factories.Account]) -> None:
    auth = new_account().auth
    for base in _bases(gateway_url, service_urls, service, path):
        got = httpx.get(base + path, headers=auth, timeout=10.0)
        head = httpx.head(base + path, headers=auth, timeout=10.0)
        assert head.status_code == got.status_code != 405, (base, head.status_code)
        assert head.content == b""
        assert head.headers["content-type"] == got.headers["content-type"]
        assert head.headers.get("content-length") == str(len(got.content))


def test_head_where_get_is_not_served_is_still_405(gateway_url: str) -> None:
    answer = httpx.head(gateway_url + "/api/v1/users/login", timeout=10.0)
    assert answer.status_code == 405 and answer.content == b""


ALLOW_CASES = [("product", "DELETE", "/api/v1/products", {"GET", "HEAD", "POST"}),
               ("product", "PUT", "/api/v1/products/1", {"GET", "HEAD", "PATCH"}),
               ("order", "OPTIONS", "/api/v1/orders/1", {"GET", "HEAD"}),
               ("user", "TRACE", "/api/v1/users/me", {"GET", "HEAD"}),
               ("user", "GET", "/api/v1/users/login", {"POST"})]


@pytest.mark.parametrize(("service", "method", "path", "allowed"), ALLOW_CASES,
                         ids=lambda v: v if isinstance(v, str) else "")
def test_allow_lists_head_wherever_get_is_served(
        gateway_url: str, service_urls: dict[str, str], service: str, method: str, path: str,
        allowed: set[str]) -> None:
    """A 405's `Allow` names every method served at the path — HEAD too where GET is (it
    listed GET without HEAD although HEAD is answered), and nothing that is not served."""
    for base in (service_urls[service], gateway_url):
        answer = httpx.request(method, base + path, timeout=10.0)
        assert_problem(answer, 405)
        listed = {m.strip() for m in answer.headers["allow"].split(",")}
        assert listed == allowed, (base, method, path, answer.headers["allow"])
        if "HEAD" in listed:
            assert httpx.head(base + path, timeout=10.0).status_code != 405


@pytest.mark.parametrize("spelling", NON_CANONICAL_IDS)
def test_an_id_has_one_spelling(gateway_url: str, service_urls: dict[str, str],
                                spelling: str) -> None:
    for base in (gateway_url, service_urls["product"]):
        answer = httpx.get(f"{base}/api/v1/products/{spelling}", timeout=10.0)
        assert answer.status_code in (400, 422), (spelling, answer.status_code, answer.text)
        assert "sku" not in answer.text
    assert httpx.get(f"{gateway_url}/api/v1/products/1", timeout=10.0).status_code == 200


@pytest.mark.parametrize("query", ["limit=1.0", "limit=+1", "limit=%D9%A1", "offset=00"])
def test_query_integers_have_one_spelling(gateway_url: str, query: str) -> None:
    assert_validation_problem(httpx.get(f"{gateway_url}/api/v1/products?{query}", timeout=10.0))


@pytest.mark.parametrize("quantity", ["1", True, 1.5, 2.0, None, [1]], ids=repr)
def test_a_body_integer_is_a_json_integer(
        api: httpx.Client, new_account: Callable[[], factories.Account], quantity: Any) -> None:
    account = new_account()
    answer = factories.place_order(api, account, [{"product_id": 1, "quantity": quantity}])
    errors = assert_validation_problem(answer)
    assert any(e["loc"][-1] == "quantity" for e in errors), errors
    assert api.get("/api/v1/orders", headers=account.auth).json()["total"] == 0


WHOLE_FLOATS = ["1.0", "1e0", "1E0", "1.00", "10e-1"]


@pytest.mark.parametrize("spelling", WHOLE_FLOATS)
def test_a_whole_float_is_not_an_integer_in_an_order(
        api: httpx.Client, new_account: Callable[[], factories.Account], spelling: str) -> None:
    account = new_account()
    for line in (f'{{"product_id": 1, "quantity": {spelling}}}',
                 f'{{"product_id": {spelling}, "quantity": 1}}'):
        body = f'{{"items": [{line}], "payment_token": "tok_visa"}}'.encode()
        answer = api.post("/api/v1/orders", content=body, headers={
            **account.auth, "Idempotency-Key": factories.unique("k"),
            "Content-Type": "application/json"})
        errors = assert_validation_problem(answer)
        assert any(e["loc"][-1] in ("quantity", "product_id") for e in errors), errors
    assert api.get("/api/v1/orders", headers=account.auth).json()["total"] == 0
    # The integer spelling of the same order is accepted.
    assert factories.place_order(api, account, [{"product_id": 1, "quantity": 1}]
                                 ).status_code == 202


@pytest.mark.parametrize("spelling", WHOLE_FLOATS)
def test_a_whole_float_is_not_an_integer_in_a_product(
        api: httpx.Client, admin_token: str, new_product: Callable[..., dict[str, Any]],
        spelling: str) -> None:
    auth = {"Authorization": f"Bearer {admin_token}", "Content-Type": "application/json"}
    sku = factories.unique("SKU").upper()
    created = api.post("/api/v1/products", headers=auth, content=(
        f'{{"sku": "{sku}", "name": "Whole float", "price": "1.00", "stock": {spelling}}}'
    ).encode())
    assert any(e["loc"][-1] == "stock" for e in assert_validation_problem(created))
    product = new_product(stock=5)
    for field in ("stock", "stock_delta"):
        patched = api.patch(f"/api/v1/products/{product['id']}", headers=auth,
                            content=f'{{"{field}": {spelling}}}'.encode())
        assert any(e["loc"][-1] == field for e in assert_validation_problem(patched))
    assert factories.get_product(api, product["id"])["stock"] == 5


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded",
                                          "text/json", "application/jsonx"])
def test_a_json_body_must_be_declared_as_json(gateway_url: str, service_urls: dict[str, str],
                                              content_type: str | None) -> None:
    body = orjson.dumps({"email": factories.unique_email("ct"), "password": "long-enough-1",
                         "name": "Content Type"})
    headers = {"Content-Type": content_type} if content_type else {}
    for base in (gateway_url, service_urls["user"]):
        with httpx.Client(base_url=base, timeout=10.0) as client:
            request = client.build_request("POST", "/api/v1/users", content=body,
                                           headers=headers)
            if content_type is None:
                request.headers.pop("Content-Type", None)
            problem = assert_problem(client.send(request), 415)
            assert "application/json" in problem["detail"]


@pytest.mark.parametrize("content_type", ["application/json; charset=utf-8",
                                          "application/merge-patch+json", "Application/JSON"])
def test_json_media_types_are_accepted(api: httpx.Client, content_type: str) -> None:
    body = orjson.dumps({"email": factories.unique_email("ct"), "password": "long-enough-1",
                         "name": "Content Type"})
    answer = api.post("/api/v1/users", content=body, headers={"Content-Type": content_type})
    assert answer.status_code == 201, answer.text


def test_documents_declare_the_415_and_the_limits_of_an_order(
        service_urls: dict[str, str]) -> None:
    for service, url in service_urls.items():
        document = httpx.get(f"{url}/openapi.json", timeout=10.0).json()
        for path, item in document["paths"].items():
            for method, operation in item.items():
                if "requestBody" in operation:
                    assert "415" in operation["responses"], (service, method, path)
    orders = httpx.get(f"{service_urls['order']}/openapi.json", timeout=10.0).json()
    create = orders["paths"]["/api/v1/orders"]["post"]
    assert "50 lines" in create["description"] and "1 to 100" in create["description"]
    schemas = orders["components"]["schemas"]
    assert schemas["OrderCreate"]["properties"]["items"]["maxItems"] == 50
    assert schemas["OrderItemIn"]["properties"]["quantity"]["maximum"] == 100
    assert "not 1.0 (refused)" in (
        schemas["OrderItemIn"]["properties"]["quantity"]["description"])
