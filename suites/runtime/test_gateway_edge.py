"""The gateway's own behaviour, on an nginx with nothing behind its proxy ports: problem+json
for every error nginx generates, X-Request-ID on every response, limits, denied paths."""

from __future__ import annotations

import re
import time

import httpx
import pytest

from suites.runtime.conftest import GatewayOnly

GENERATED_ID = re.compile(r"^[0-9a-f]{32}$")


def _assert_problem(response: httpx.Response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status
    assert body["title"] and body["detail"] and body["type"]
    assert body["request_id"] == response.headers["x-request-id"]
    return body


@pytest.mark.parametrize("path", ["/", "/nope", "/api/v2/users", "/api/v1/usersx"])
def test_unknown_path_is_problem_json_404(gateway_only: GatewayOnly, path: str) -> None:
    _assert_problem(httpx.get(gateway_only.url + path), 404)


def test_request_id_is_generated_when_absent(gateway_only: GatewayOnly) -> None:
    first = httpx.get(gateway_only.url + "/nope")
    second = httpx.get(gateway_only.url + "/nope")
    assert GENERATED_ID.match(first.headers["x-request-id"])
    assert first.headers["x-request-id"] != second.headers["x-request-id"]


@pytest.mark.parametrize("path", ["/nope", "/health", "/api/v1/users", "/internal"])
def test_callers_request_id_is_echoed_on_every_response(gateway_only: GatewayOnly,
                                                        path: str) -> None:
    response = httpx.get(gateway_only.url + path, headers={"X-Request-ID": "test-req.42:a_b"})
    assert response.headers.get_list("x-request-id") == ["test-req.42:a_b"]


def test_malformed_request_id_is_replaced(gateway_only: GatewayOnly) -> None:
    response = httpx.get(gateway_only.url + "/nope", headers={"X-Request-ID": "bad id\"}"})
    assert GENERATED_ID.match(response.headers["x-request-id"])


def test_unreachable_service_proxy_is_problem_json_503(gateway_only: GatewayOnly) -> None:
    body = _assert_problem(httpx.get(gateway_only.url + "/api/v1/users/me"), 503)
    assert body["title"] == "Service Unavailable"
    assert body["detail"] == "The upstream service is unreachable."


def test_hung_upstream_is_problem_json_504_after_the_read_timeout(
        gateway_only: GatewayOnly, black_hole: int) -> None:
    started = time.monotonic()
    response = httpx.get(gateway_only.url + "/api/v1/products", timeout=10)
    elapsed = time.monotonic() - started
    _assert_problem(response, 504)
    assert 0.9 <= elapsed < 5, f"read timeout is 1 s in this topology, took {elapsed:.1f}s"


def test_health_is_503_when_no_service_is_reachable(gateway_only: GatewayOnly) -> None:
    response = httpx.get(gateway_only.url + "/health", timeout=10)
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "degraded"
    assert set(body["services"]) == set(gateway_only.topology.services)
    assert all(s["status"] == "unavailable" and s["code"] != 200
               for s in body["services"].values())


@pytest.mark.parametrize("path", ["/internal", "/internal/reset", "/api/v1/orders/internal/x"])
def test_internal_paths_are_denied(gateway_only: GatewayOnly, path: str) -> None:
    _assert_problem(httpx.post(gateway_only.url + path, json={}), 403)


def test_oversized_body_is_problem_json_413(gateway_only: GatewayOnly) -> None:
    response = httpx.post(gateway_only.url + "/api/v1/users", content=b"x" * (2 * 1024 * 1024),
                          headers={"Content-Type": "application/json"})
    _assert_problem(response, 413)


def test_rate_limit_is_problem_json_429(rate_limited_gateway: GatewayOnly) -> None:
    url = rate_limited_gateway.url + "/api/v1/products"
    with httpx.Client() as client:
        statuses = [client.get(url).status_code for _ in range(10)]
        limited = client.get(url)
    assert statuses.count(429) >= 6, statuses
    assert statuses[0] != 429
    _assert_problem(limited, 429)


def test_access_log_is_json_with_request_id_and_upstream_timing(gateway_only: GatewayOnly) -> None:
    import json

    httpx.get(gateway_only.url + "/api/v1/users/me", headers={"X-Request-ID": "log-probe-1"})
    log = gateway_only.state.logs / "gateway.access.log"
    deadline = time.monotonic() + 5
    entry = None
    while entry is None and time.monotonic() < deadline:
        for line in log.read_text().splitlines():
            record = json.loads(line)
            if record["request_id"] == "log-probe-1":
                entry = record
        time.sleep(0.05)
    assert entry is not None
    assert entry["status"] == 503
    assert entry["upstream_addr"].endswith(
        f":{gateway_only.topology.edge('gateway', 'user').proxy_port}")
    assert "upstream_connect_time" in entry and "request_time" in entry
