"""Thin helpers over the Toxiproxy admin API (httpx), with assertions on its exact answers.

Why: tests read like the spec when "create a proxy" or "expect 404 proxy not found" is one
line; each helper asserts the documented status so a wrong code fails where it happens.
"""
from __future__ import annotations

import uuid
from typing import Any

import httpx

TOXIC_ATTRIBUTES: dict[str, dict[str, int]] = {
    "latency": {"latency": 0, "jitter": 0},
    "bandwidth": {"rate": 0},
    "slow_close": {"delay": 0},
    "timeout": {"timeout": 0},
    "reset_peer": {"timeout": 0},
    "slicer": {"average_size": 0, "size_variation": 0, "delay": 0},
    "limit_data": {"bytes": 0},
    "noop": {},
}
"""Every public 2.12 toxic type with every attribute at its zero value (spec §3, §9)."""

# Real Toxiproxy 2.12 also emits "Logger": {} (an untagged Go struct field), in this place.
PROXY_FIELDS = ["name", "listen", "upstream", "enabled", "Logger", "toxics"]
TOXIC_FIELDS = {"attributes", "name", "type", "stream", "toxicity"}
BAD_BODY_PREFIX = "bad request body: "
INVALID_STREAM = "stream was invalid, can be either upstream or downstream"


def unique_name(prefix: str = "proxy") -> str:
    """A proxy name no other test uses (URL-safe)."""
    return f"{prefix}_{uuid.uuid4().hex[:10]}"


def port_of(listen: str) -> int:
    """The port of a `listen` string such as `127.0.0.1:4242` or `[::]:4242`."""
    return int(listen.rsplit(":", 1)[1])


def create_proxy(
    api: httpx.Client,
    upstream: str,
    *,
    name: str | None = None,
    listen: str = "127.0.0.1:0",
    enabled: bool | None = None,
) -> dict[str, Any]:
    """POST /proxies and assert 201; return the proxy as the server shows it."""
    body: dict[str, Any] = {"name": name or unique_name(), "listen": listen, "upstream": upstream}
    if enabled is not None:
        body["enabled"] = enabled
    response = api.post("/proxies", json=body)
    assert response.status_code == 201, f"create proxy: {response.status_code} {response.text}"
    return response.json()


def get_proxy(api: httpx.Client, name: str) -> dict[str, Any]:
    response = api.get(f"/proxies/{name}")
    assert response.status_code == 200, f"get proxy: {response.status_code} {response.text}"
    return response.json()


def update_proxy(
    api: httpx.Client, name: str, body: dict[str, Any], *, method: str = "POST"
) -> dict[str, Any]:
    """POST or PATCH /proxies/{name} and assert 200."""
    response = api.request(method, f"/proxies/{name}", json=body)
    assert response.status_code == 200, f"update proxy: {response.status_code} {response.text}"
    return response.json()


def add_toxic(
    api: httpx.Client,
    proxy: str,
    toxic_type: str,
    *,
    stream: str | None = None,
    name: str | None = None,
    toxicity: float | None = None,
    attributes: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """POST /proxies/{proxy}/toxics with only the given fields; assert 200 (not 201)."""
    body: dict[str, Any] = {"type": toxic_type}
    for key, value in (("stream", stream), ("name", name), ("toxicity", toxicity),
                       ("attributes", attributes)):
        if value is not None:
            body[key] = value
    response = api.post(f"/proxies/{proxy}/toxics", json=body)
    assert response.status_code == 200, f"add toxic: {response.status_code} {response.text}"
    return response.json()


def update_toxic(
    api: httpx.Client, proxy: str, toxic: str, body: dict[str, Any], *, method: str = "PATCH"
) -> dict[str, Any]:
    response = api.request(method, f"/proxies/{proxy}/toxics/{toxic}", json=body)
    assert response.status_code == 200, f"update toxic: {response.status_code} {response.text}"
    return response.json()


def remove_toxic(api: httpx.Client, proxy: str, toxic: str) -> None:
    response = api.delete(f"/proxies/{proxy}/toxics/{toxic}")
    assert response.status_code == 204, f"remove toxic: {response.status_code} {response.text}"


def toxic_names(api: httpx.Client, proxy: str) -> list[str]:
    response = api.get(f"/proxies/{proxy}/toxics")
    assert response.status_code == 200
    return [toxic["name"] for toxic in response.json()]


def assert_api_error(response: httpx.Response, status: int, message: str) -> dict[str, Any]:
    """Assert the error shape: `status` and body `{"error": message, "status": status}`."""
    assert response.status_code == status, (
        f"expected {status} {message!r}, got {response.status_code}: {response.text}"
    )
    body = response.json()
    assert body.get("error") == message, f"error message: {body}"
    assert body.get("status") == status, f"status in body: {body}"
    return body


def assert_bad_body(response: httpx.Response) -> str:
    """Assert 400 with a `bad request body: <decoder error>` message; return the message."""
    assert response.status_code == 400, f"expected 400, got {response.status_code}: {response.text}"
    body = response.json()
    assert body.get("status") == 400, body
    message = body.get("error", "")
    assert message.startswith(BAD_BODY_PREFIX), f"message lacks {BAD_BODY_PREFIX!r}: {message!r}"
    return message


def assert_still_serving(api: httpx.Client) -> None:
    """The admin API still answers normally (after a bad input, for instance)."""
    response = api.get("/proxies")
    assert response.status_code == 200, f"API stopped serving: {response.status_code}"


def delete_all_proxies(api: httpx.Client) -> None:
    """Delete every proxy (what each test leaves behind); also proves the API still serves."""
    response = api.get("/proxies")
    assert response.status_code == 200, f"GET /proxies after test: {response.status_code}"
    for name in response.json():
        deleted = api.delete(f"/proxies/{name}")
        assert deleted.status_code in (204, 404), f"cleanup of {name}: {deleted.status_code}"
