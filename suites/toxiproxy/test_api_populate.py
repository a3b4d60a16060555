"""POST /populate (spec §7): bulk create/replace, all-or-nothing validation, non-atomic starts.

Mirrors api_test.go: TestPopulateProxy, TestPopulateDefaultEnabled, TestPopulateDisabledProxy,
TestPopulateExistingProxy, TestPopulateWithBadName, TestPopulateProxyWithBadDataShouldReturnError.
"""
from __future__ import annotations

from typing import Any

import httpx
import pytest

from suites.toxiproxy import admin, net


def _entry(name: str, *, listen: str = "127.0.0.1:0", upstream: str = "127.0.0.1:1",
           **extra: Any) -> dict[str, Any]:
    return {"name": name, "listen": listen, "upstream": upstream, **extra}


def test_populate_creates_enabled_listening_proxies(api: httpx.Client) -> None:
    names = [admin.unique_name("one"), admin.unique_name("two")]
    response = api.post("/populate", json=[_entry(names[0]), _entry(names[1], enabled=True)])
    assert response.status_code == 201
    proxies = response.json()["proxies"]
    assert [p["name"] for p in proxies] == names
    for proxy in proxies:
        assert proxy["enabled"] is True
        assert proxy["toxics"] == []
        assert net.is_listening(admin.port_of(proxy["listen"]))
    assert set(api.get("/proxies").json()) == set(names)


def test_populate_entry_with_enabled_false_is_created_but_not_listening(api: httpx.Client) -> None:
    port = net.free_port()
    name = admin.unique_name()
    response = api.post("/populate", json=[_entry(name, listen=f"localhost:{port}", enabled=False)])
    assert response.status_code == 201
    [proxy] = response.json()["proxies"]
    assert proxy["enabled"] is False
    assert proxy["listen"] == f"localhost:{port}"
    assert not net.is_listening(port)


def test_populate_with_identical_config_keeps_existing_proxy_and_toxics(api: httpx.Client) -> None:
    port = net.free_port()
    existing = admin.create_proxy(api, "127.0.0.1:1", listen=f"localhost:{port}")
    admin.add_toxic(api, existing["name"], "latency", attributes={"latency": 100})

    response = api.post("/populate", json=[_entry(existing["name"], listen=f"localhost:{port}")])

    assert response.status_code == 201
    [proxy] = response.json()["proxies"]
    assert proxy["listen"] == f"127.0.0.1:{port}"
    assert [t["name"] for t in proxy["toxics"]] == ["latency_downstream"]
    assert admin.toxic_names(api, existing["name"]) == ["latency_downstream"]


def test_populate_identical_entry_saying_disabled_leaves_existing_enabled(
    api: httpx.Client,
) -> None:
    existing = admin.create_proxy(api, "127.0.0.1:1")
    response = api.post("/populate", json=[_entry(existing["name"], listen=existing["listen"],
                                                  enabled=False)])
    assert response.status_code == 201
    assert admin.get_proxy(api, existing["name"])["enabled"] is True
    assert net.is_listening(admin.port_of(existing["listen"]))


def test_populate_with_changed_config_replaces_proxy_and_drops_toxics(api: httpx.Client) -> None:
    existing = admin.create_proxy(api, "127.0.0.1:1")
    admin.add_toxic(api, existing["name"], "latency")
    response = api.post("/populate", json=[_entry(existing["name"], upstream="127.0.0.1:2")])
    assert response.status_code == 201
    proxy = admin.get_proxy(api, existing["name"])
    assert proxy["upstream"] == "127.0.0.1:2"
    assert proxy["toxics"] == []


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        ([_entry("good_a"), {"listen": "127.0.0.1:0", "upstream": "127.0.0.1:1"}],
         "missing required field: name at proxy 2"),
        ([_entry("good_a"), _entry("good_b"), _entry("", upstream="127.0.0.1:3")],
         "missing required field: name at proxy 3"),
        ([{"name": "no_upstream", "listen": "127.0.0.1:0"}, _entry("good_a")],
         "missing required field: upstream at proxy 1"),
    ],
    ids=["name-missing-at-2", "name-blank-at-3", "upstream-missing-at-1"],
)
def test_populate_validates_all_entries_first_and_creates_nothing(
    api: httpx.Client, entries: list[dict[str, Any]], message: str
) -> None:
    response = api.post("/populate", json=entries)
    body = admin.assert_api_error(response, 400, message)
    assert "proxies" in body and body["proxies"] is None
    assert api.get("/proxies").json() == {}


def test_populate_stops_at_a_bad_listen_keeping_earlier_proxies(api: httpx.Client) -> None:
    squatter = admin.create_proxy(api, "127.0.0.1:9")
    first, bad, last = (admin.unique_name(n) for n in ("first", "bad", "last"))

    response = api.post("/populate", json=[
        _entry(first), _entry(bad, listen=squatter["listen"]), _entry(last),
    ])

    assert response.status_code == 500
    body = response.json()
    assert body["status"] == 500
    assert "address already in use" in body["error"]
    assert [p["name"] for p in body["proxies"]] == [first]
    index = api.get("/proxies").json()
    assert first in index and bad not in index and last not in index
    assert net.is_listening(admin.port_of(index[first]["listen"]))


def test_populate_with_empty_array_answers_null_proxies(api: httpx.Client) -> None:
    response = api.post("/populate", json=[])
    assert response.status_code == 201
    assert response.json() == {"proxies": None}


@pytest.mark.parametrize(
    "content",
    [b'{"name": "x", "upstream": "y"}', b"[{", b"", b'"text"'],
    ids=["object-not-array", "truncated", "empty", "string"],
)
def test_populate_with_a_non_array_body_is_bad_request(api: httpx.Client, content: bytes) -> None:
    admin.assert_bad_body(api.post("/populate", content=content))
    assert api.get("/proxies").json() == {}


def _assert_plain_json_error(response: httpx.Response, status: int) -> dict[str, Any]:
    """Go's Populate writes its own error JSON: not http.Error's text/plain + nosniff + newline."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    assert "x-content-type-options" not in response.headers
    assert not response.content.endswith(b"\n"), response.content
    body: dict[str, Any] = response.json()
    return body


def test_populate_validation_error_is_plain_json_without_a_newline(api: httpx.Client) -> None:
    response = api.post("/populate", json=[{"name": "x"}])
    _assert_plain_json_error(response, 400)
    assert response.content == (
        b'{"error":"missing required field: upstream at proxy 1","status":400,"proxies":null}')


def test_populate_bad_body_is_plain_json_without_a_newline(api: httpx.Client) -> None:
    body = _assert_plain_json_error(api.post("/populate", content=b"[{"), 400)
    assert body["error"].startswith(admin.BAD_BODY_PREFIX)
    assert body["proxies"] is None


def test_populate_listen_error_is_plain_json_and_lists_what_was_created(
    api: httpx.Client,
) -> None:
    squatter = admin.create_proxy(api, "127.0.0.1:9")
    first, bad = admin.unique_name("first"), admin.unique_name("bad")
    response = api.post("/populate", json=[_entry(first), _entry(bad, listen=squatter["listen"])])
    body = _assert_plain_json_error(response, 500)
    assert list(body) == ["error", "status", "proxies"]
    assert body["error"] == f"listen tcp {squatter['listen']}: bind: address already in use"
    assert [p["name"] for p in body["proxies"]] == [first]


def test_other_api_errors_keep_http_error_framing(api: httpx.Client) -> None:
    """Contrast: every other route answers errors through Go's http.Error."""
    response = api.get("/proxies/nope")
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.content == b'{"error":"proxy not found","status":404}\n'
