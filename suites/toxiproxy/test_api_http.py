"""HTTP conventions of the admin API (spec §2, §4): headers, guards, routing, error shape, version.

Mirrors api_test.go: TestRequestId, TestBrowserGets403, TestNonBrowserGets200,
TestIndexWithNoProxies, TestVersionEndpointReturnsVersion.
"""
from __future__ import annotations

import re

import httpx
import pytest

from suites.toxiproxy import admin

VERSION_BODY = re.compile(rb'\A\{"version": "2\.\d+\.\d+[^"\s]*"\}\n\Z')


def test_every_routed_response_carries_a_request_id(api: httpx.Client) -> None:
    response = api.get("/proxies")
    assert response.headers.get("X-Toxiproxy-Request-Id")


def test_error_responses_also_carry_a_request_id(api: httpx.Client) -> None:
    response = api.get("/proxies/does_not_exist")
    assert response.status_code == 404
    assert response.headers.get("X-Toxiproxy-Request-Id")


def test_browser_user_agent_is_refused_with_403(api: httpx.Client) -> None:
    response = api.get("/proxies", headers={"User-Agent": "Mozilla/5.0 (X11; Linux x86_64)"})
    assert response.status_code == 403
    assert response.text.strip() == "User agent not allowed"
    assert response.headers["content-type"].startswith("text/plain")


def test_non_browser_user_agent_is_served(api: httpx.Client) -> None:
    response = api.get("/proxies", headers={"User-Agent": "Wget/1.21.3"})
    assert response.status_code == 200


@pytest.mark.parametrize("path", ["/nope", "/proxies/a/b/c/d", "/metrics"],
                         ids=["unknown", "too-deep", "metrics-not-enabled"])
def test_unknown_path_is_404_page_not_found(api: httpx.Client, path: str) -> None:
    response = api.get(path)
    assert response.status_code == 404
    assert response.text.strip() == "404 page not found"


@pytest.mark.parametrize(
    ("method", "path"),
    [("DELETE", "/version"), ("PUT", "/proxies"), ("DELETE", "/proxies"), ("GET", "/reset"),
     ("PUT", "/proxies/any"), ("GET", "/populate")],
    ids=["delete-version", "put-proxies", "delete-proxies", "get-reset", "put-proxy",
         "get-populate"],
)
def test_known_path_with_wrong_method_is_405_with_empty_body(
    api: httpx.Client, method: str, path: str
) -> None:
    response = api.request(method, path)
    assert response.status_code == 405
    assert response.content == b""


def test_index_of_an_empty_server_is_an_empty_object(api: httpx.Client) -> None:
    response = api.get("/proxies")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert response.json() == {}


def test_version_is_exact_bytes_with_its_own_content_type(api: httpx.Client) -> None:
    response = api.get("/version")
    assert response.status_code == 200
    assert VERSION_BODY.match(response.content), response.content
    assert response.headers["content-type"] == "application/json;charset=utf-8"


def test_error_body_is_compact_json_with_newline_as_text_plain(api: httpx.Client) -> None:
    """http.Error semantics: JSON body + newline, but a text/plain content type and nosniff."""
    response = api.get("/proxies/missing")
    assert response.status_code == 404
    assert response.content == b'{"error":"proxy not found","status":404}\n'
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.headers.get("x-content-type-options") == "nosniff"


def test_success_bodies_are_json_without_trailing_newline(api: httpx.Client) -> None:
    proxy = admin.create_proxy(api, "127.0.0.1:1", name=admin.unique_name())
    response = api.get(f"/proxies/{proxy['name']}")
    assert response.headers["content-type"].startswith("application/json")
    assert not response.content.endswith(b"\n")
