"""The gateway answers requests outside the documents like the service behind it does.

Schemathesis only sends what the documents describe (plus undeclared methods). Two defects it
could not see, or saw only through the gateway, get explicit regression tests here:
nginx refusing TRACE with a 405 that lacks `Allow`, and trailing-slash redirects (now gone:
they were built from the client's `Host`).
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

pytestmark = [pytest.mark.fuzz, pytest.mark.platform]

# One path per service (and one with a path parameter): the gateway routes them all.
ROUTED_PATHS = [("user", "/api/v1/users/me"), ("product", "/api/v1/products"),
                ("product", "/api/v1/products/1"), ("order", "/api/v1/orders"),
                ("payment", "/api/v1/payments")]


def _split_allow(value: str | None) -> set[str]:
    return {m.strip() for m in (value or "").split(",") if m.strip()}


@pytest.mark.parametrize(("service", "path"), ROUTED_PATHS)
def test_trace_gets_the_services_405_with_allow(running_platform: Any, service: str,
                                                  path: str) -> None:
    direct = httpx.request("TRACE", running_platform.service_urls[service] + path, timeout=10.0)
    via_gateway = httpx.request("TRACE", running_platform.gateway_url + path, timeout=10.0)
    assert direct.status_code == via_gateway.status_code == 405
    allowed = _split_allow(via_gateway.headers.get("Allow"))
    assert allowed, "405 without Allow (RFC 9110)"
    assert allowed == _split_allow(direct.headers.get("Allow"))
    assert via_gateway.headers["Content-Type"] == direct.headers["Content-Type"]


def test_trace_with_a_body_leaves_the_upstream_connection_usable(running_platform: Any) -> None:
    """The forwarded TRACE must not carry the client's Content-Length without its body: that
    would desynchronise the keepalive connection and break the next request on it."""
    url = running_platform.gateway_url + "/api/v1/products"
    with httpx.Client(timeout=10.0) as client:
        for _ in range(5):
            assert client.request("TRACE", url, content=b'{"a": 1}').status_code == 405
            assert client.get(url, params={"limit": 1}).status_code == 200


def test_a_trailing_slash_is_the_same_404_directly_and_through_the_gateway(
        running_platform: Any) -> None:
    """The services no longer redirect `/api/v1/products/` (a Location built from `Host` was
    an open redirect through the gateway, issue 11): both routes answer the same 404."""
    direct = httpx.get(running_platform.service_urls["product"] + "/api/v1/products/",
                       timeout=10.0)
    via_gateway = httpx.get(running_platform.gateway_url + "/api/v1/products/", timeout=10.0)
    assert direct.status_code == via_gateway.status_code == 404
    assert "location" not in direct.headers and "location" not in via_gateway.headers
    assert direct.json() == via_gateway.json()
