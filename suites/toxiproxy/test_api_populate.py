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
