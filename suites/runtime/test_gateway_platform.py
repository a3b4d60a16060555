"""The gateway in front of the running platform: routing, request ids reaching the
services, problem+json 503/504 when a gateway->service link fails, aggregate /health."""

from __future__ import annotations

import time
import uuid

import httpx
import pytest

from chaos.faults import proxy_down, toxic
from suites.fixtures.platform import RunningPlatform

pytestmark = pytest.mark.platform


def _problem(response: httpx.Response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status
    assert body["request_id"] == response.headers["x-request-id"]
    return body


def test_health_aggregates_every_service(running_platform: RunningPlatform) -> None:
    response = httpx.get(f"{running_platform.gateway_url}/health", timeout=10)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "ok"
    assert body["services"] == {name: {"status": "ok", "code": 200}
                                for name in running_platform.topology.services}
    assert response.headers["x-request-id"]


def test_routes_reach_their_service_and_keep_its_own_errors(
        running_platform: RunningPlatform) -> None:
    gateway = running_platform.gateway_url
    listing = httpx.get(f"{gateway}/api/v1/products", params={"limit": 1}, timeout=10)
    assert listing.status_code == 200
    assert "items" in listing.json()
    missing = httpx.get(f"{gateway}/api/v1/products/987654321", timeout=10)
    assert missing.status_code == 404
    assert missing.json()["type"] != "about:blank", "the service's own 404 must pass through"
    unauthenticated = httpx.get(f"{gateway}/api/v1/users/me", timeout=10)
    assert unauthenticated.status_code == 401
    assert len(unauthenticated.headers.get_list("x-request-id")) == 1


def test_request_id_reaches_the_service(running_platform: RunningPlatform) -> None:
    request_id = f"rt-{uuid.uuid4().hex}"
    response = httpx.get(f"{running_platform.gateway_url}/api/v1/products",
                         headers={"X-Request-ID": request_id}, timeout=10)
    assert response.headers["x-request-id"] == request_id
    log = running_platform.log_path("product")
    deadline = time.monotonic() + 5
    while request_id not in log.read_text(errors="replace") and time.monotonic() < deadline:
        time.sleep(0.1)
    assert request_id in log.read_text(errors="replace"), "the service never saw the request id"


def test_proxy_down_gives_problem_json_503(running_platform: RunningPlatform, mesh) -> None:
    name = running_platform.proxy_name("gateway", "user")
    with proxy_down(mesh, name):
        response = httpx.post(f"{running_platform.gateway_url}/api/v1/users/login",
                              json={"email": "a@example.com", "password": "whatever1"},
                              timeout=10)
        _problem(response, 503)
    health = httpx.get(f"{running_platform.gateway_url}/health", timeout=10)
    assert health.status_code == 200, "the link must heal once the proxy is back"


@pytest.mark.slow
def test_silent_upstream_gives_problem_json_504(running_platform: RunningPlatform, mesh) -> None:
    read_timeout = running_platform.topology.gateway.read_timeout_s
    name = running_platform.proxy_name("gateway", "product")
    with toxic(mesh, name, "timeout", stream="downstream", timeout=0):
        started = time.monotonic()
        response = httpx.get(f"{running_platform.gateway_url}/api/v1/products",
                             timeout=read_timeout + 10)
        elapsed = time.monotonic() - started
    _problem(response, 504)
    assert read_timeout - 0.5 <= elapsed <= read_timeout + 5


def test_health_is_503_while_a_service_is_stopped(running_platform: RunningPlatform,
                                                 process_faults) -> None:
    process_faults.stop("payment")
    response = httpx.get(f"{running_platform.gateway_url}/health", timeout=10)
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "degraded"
    assert body["services"]["payment"]["status"] == "unavailable"
    assert body["services"]["user"] == {"status": "ok", "code": 200}
    process_faults.start("payment")
    assert httpx.get(f"{running_platform.gateway_url}/health", timeout=10).status_code == 200
