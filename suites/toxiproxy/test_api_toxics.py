"""Toxic CRUD over the admin API (spec §3, §4, §8): defaults, names, streams, order, merge.

Mirrors api_test.go: TestAddToxic..., TestAddMultipleToxics, TestAddConflictingToxic,
TestAddConflictingToxicsMultistream, TestAddConflictingToxicsMultistreamDefaults,
TestAddToxicWithToxicity, TestAddNoop, TestUpdateToxics, TestRemoveToxic, TestInvalidStream.
"""
from __future__ import annotations

from typing import Any

import httpx
import pytest

from suites.toxiproxy import admin


@pytest.fixture
def proxy(api: httpx.Client) -> str:
    """A proxy (upstream irrelevant: no traffic) to hang toxics on."""
    return admin.create_proxy(api, "127.0.0.1:1")["name"]


def _defaults_case(toxic_type: str) -> tuple[dict[str, Any] | None, dict[str, int]]:
    """Attributes to send and the full attribute object expected back.

    slicer gets a valid average_size because average_size 0 is invalid (it never terminates);
    every other type is sent with no attributes at all and must show all of them as zero.
    """
    if toxic_type == "slicer":
        return {"average_size": 64}, {"average_size": 64, "size_variation": 0, "delay": 0}
    return None, admin.TOXIC_ATTRIBUTES[toxic_type]


@pytest.mark.parametrize("toxic_type", list(admin.TOXIC_ATTRIBUTES),
                         ids=list(admin.TOXIC_ATTRIBUTES))
def test_toxic_defaults_downstream_toxicity_1_and_every_attribute(
    api: httpx.Client, proxy: str, toxic_type: str
) -> None:
    sent, expected = _defaults_case(toxic_type)
    body: dict[str, Any] = {"type": toxic_type}
    if sent is not None:
        body["attributes"] = sent
    response = api.post(f"/proxies/{proxy}/toxics", json=body)

    assert response.status_code == 200, response.text
    toxic = response.json()
    assert set(toxic) == admin.TOXIC_FIELDS
    assert toxic == {"attributes": expected, "name": f"{toxic_type}_downstream",
                     "type": toxic_type, "stream": "downstream", "toxicity": 1}
    assert api.get(f"/proxies/{proxy}/toxics/{toxic['name']}").json() == toxic


def test_toxic_attributes_are_returned_as_given(api: httpx.Client, proxy: str) -> None:
    toxic = admin.add_toxic(api, proxy, "latency", stream="upstream", name="slow",
                            attributes={"latency": 100, "jitter": 7})
    assert toxic == {"attributes": {"latency": 100, "jitter": 7}, "name": "slow",
                     "type": "latency", "stream": "upstream", "toxicity": 1}


def test_fractional_toxicity_round_trips(api: httpx.Client, proxy: str) -> None:
    toxic = admin.add_toxic(api, proxy, "latency", toxicity=0.2)
    assert toxic["toxicity"] == 0.2
    assert api.get(f"/proxies/{proxy}/toxics/latency_downstream").json()["toxicity"] == 0.2


def test_noop_is_a_public_type_with_empty_attributes(api: httpx.Client, proxy: str) -> None:
    toxic = admin.add_toxic(api, proxy, "noop")
    assert toxic["name"] == "noop_downstream"
    assert toxic["attributes"] == {}


def test_stream_is_case_insensitive_and_default_name_keeps_its_spelling(
    api: httpx.Client, proxy: str
) -> None:
    toxic = admin.add_toxic(api, proxy, "latency", stream="UpStream")
    assert toxic["name"] == "latency_UpStream"
    assert [t["name"] for t in api.get(f"/proxies/{proxy}/toxics").json()] == ["latency_UpStream"]


def test_default_names_let_one_type_exist_on_both_streams(api: httpx.Client, proxy: str) -> None:
    admin.add_toxic(api, proxy, "latency", stream="upstream")
    admin.add_toxic(api, proxy, "latency", stream="downstream")
    assert admin.toxic_names(api, proxy) == ["latency_upstream", "latency_downstream"]


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ({"type": "latency", "name": "x"}, {"type": "latency", "name": "x"}),
        ({"type": "latency", "name": "x"}, {"type": "bandwidth", "name": "x"}),
        ({"type": "latency", "name": "x", "stream": "upstream"},
         {"type": "latency", "name": "x", "stream": "downstream"}),
        ({"type": "latency"}, {"type": "latency", "stream": "downstream"}),
    ],
    ids=["same-everything", "other-type", "other-stream", "default-name-twice"],
)
def test_toxic_name_clash_is_409(
    api: httpx.Client, proxy: str, first: dict[str, Any], second: dict[str, Any]
) -> None:
    assert api.post(f"/proxies/{proxy}/toxics", json=first).status_code == 200
    response = api.post(f"/proxies/{proxy}/toxics", json=second)
    admin.assert_api_error(response, 409, "toxic already exists")
    assert len(admin.toxic_names(api, proxy)) == 1


def test_same_toxic_name_on_two_proxies_is_fine(api: httpx.Client, proxy: str) -> None:
    other = admin.create_proxy(api, "127.0.0.1:2")["name"]
    admin.add_toxic(api, proxy, "latency", name="shared")
    admin.add_toxic(api, other, "latency", name="shared")


def test_list_shows_upstream_toxics_first_then_downstream_in_chain_order(
    api: httpx.Client, proxy: str
) -> None:
    for name, stream in [("d1", "downstream"), ("u1", "upstream"), ("d2", "downstream"),
                         ("u2", "upstream")]:
        admin.add_toxic(api, proxy, "latency", name=name, stream=stream)
    assert admin.toxic_names(api, proxy) == ["u1", "u2", "d1", "d2"]


def test_toxics_list_of_a_new_proxy_is_an_empty_array(api: httpx.Client, proxy: str) -> None:
    response = api.get(f"/proxies/{proxy}/toxics")
    assert response.status_code == 200
    assert response.json() == []


def test_toxics_can_be_added_to_a_disabled_proxy(api: httpx.Client) -> None:
    name = admin.create_proxy(api, "127.0.0.1:1", enabled=False)["name"]
    admin.add_toxic(api, name, "timeout")
    assert admin.toxic_names(api, name) == ["timeout_downstream"]


@pytest.mark.parametrize("method", ["PATCH", "POST"])
def test_update_merges_attributes_and_keeps_omitted_toxicity(
    api: httpx.Client, proxy: str, method: str
) -> None:
    admin.add_toxic(api, proxy, "latency", toxicity=0.5, attributes={"latency": 100, "jitter": 10})
    updated = admin.update_toxic(api, proxy, "latency_downstream",
                                 {"attributes": {"latency": 200}}, method=method)
    assert updated["attributes"] == {"latency": 200, "jitter": 10}
    assert updated["toxicity"] == 0.5
    assert api.get(f"/proxies/{proxy}/toxics/latency_downstream").json() == updated


def test_update_of_toxicity_only_keeps_attributes(api: httpx.Client, proxy: str) -> None:
    admin.add_toxic(api, proxy, "latency", attributes={"latency": 100, "jitter": 10})
    updated = admin.update_toxic(api, proxy, "latency_downstream", {"toxicity": 0.25})
    assert updated["toxicity"] == 0.25
    assert updated["attributes"] == {"latency": 100, "jitter": 10}


def test_update_ignores_name_type_and_stream(api: httpx.Client, proxy: str) -> None:
    admin.add_toxic(api, proxy, "latency", attributes={"latency": 100})
    updated = admin.update_toxic(api, proxy, "latency_downstream", {
        "name": "renamed", "type": "bandwidth", "stream": "upstream",
        "attributes": {"latency": 5}})
    assert updated == {"attributes": {"latency": 5, "jitter": 0}, "name": "latency_downstream",
                       "type": "latency", "stream": "downstream", "toxicity": 1}


def test_remove_toxic_is_204_and_it_is_gone(api: httpx.Client, proxy: str) -> None:
    admin.add_toxic(api, proxy, "latency", name="a")
    admin.add_toxic(api, proxy, "latency", name="b")
    admin.add_toxic(api, proxy, "latency", name="c")
    response = api.delete(f"/proxies/{proxy}/toxics/b")
    assert response.status_code == 204
    assert response.content == b""
    assert admin.toxic_names(api, proxy) == ["a", "c"]
    admin.assert_api_error(api.get(f"/proxies/{proxy}/toxics/b"), 404, "toxic not found")


@pytest.mark.parametrize("method", ["GET", "PATCH", "POST", "DELETE"])
def test_unknown_toxic_is_404_toxic_not_found(api: httpx.Client, proxy: str, method: str) -> None:
    body = {"toxicity": 1} if method in ("PATCH", "POST") else None
    response = api.request(method, f"/proxies/{proxy}/toxics/nope", json=body)
    admin.assert_api_error(response, 404, "toxic not found")


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/toxics"), ("POST", "/toxics"), ("GET", "/toxics/t"), ("PATCH", "/toxics/t"),
     ("DELETE", "/toxics/t")],
    ids=["list", "add", "get", "update", "remove"],
)
def test_toxic_routes_of_an_unknown_proxy_are_404_proxy_not_found(
    api: httpx.Client, method: str, path: str
) -> None:
    body = {"type": "latency"} if method in ("POST", "PATCH") else None
    response = api.request(method, f"/proxies/ghost{path}", json=body)
    admin.assert_api_error(response, 404, "proxy not found")


def test_unknown_toxic_type_is_400(api: httpx.Client, proxy: str) -> None:
    response = api.post(f"/proxies/{proxy}/toxics", json={"type": "packet_eater"})
    admin.assert_api_error(response, 400, "invalid toxic type")
    assert admin.toxic_names(api, proxy) == []


@pytest.mark.parametrize("stream", ["sideways", "", "up"], ids=["word", "empty", "prefix"])
def test_invalid_stream_is_400(api: httpx.Client, proxy: str, stream: str) -> None:
    response = api.post(f"/proxies/{proxy}/toxics", json={"type": "latency", "stream": stream})
    admin.assert_api_error(response, 400, admin.INVALID_STREAM)
    assert admin.toxic_names(api, proxy) == []


# A repeated "attributes" key (issue 12): Go decodes every occurrence into the same toxic
# struct, so they merge; a null occurrence sets Go's interface{} to nil, after which later
# occurrences fill a throwaway map and change nothing (checked against a real 2.12 build).
def test_repeated_attributes_keys_merge_on_add(api: httpx.Client, proxy: str) -> None:
    response = api.post(f"/proxies/{proxy}/toxics", content=(
        b'{"type":"latency","attributes":{"latency":5},"attributes":{"jitter":6}}'))
    assert response.status_code == 200, response.text
    assert response.json()["attributes"] == {"latency": 5, "jitter": 6}


def test_repeated_attributes_keys_merge_on_update(api: httpx.Client, proxy: str) -> None:
    admin.add_toxic(api, proxy, "latency", attributes={"latency": 1, "jitter": 2})
    response = api.post(f"/proxies/{proxy}/toxics/latency_downstream", content=(
        b'{"attributes":{"latency":7},"Attributes":{"jitter":8},"attributes":{"latency":9}}'))
    assert response.status_code == 200, response.text
    assert response.json()["attributes"] == {"latency": 9, "jitter": 8}


def test_a_null_attributes_occurrence_ends_the_merge(api: httpx.Client, proxy: str) -> None:
    admin.add_toxic(api, proxy, "latency", attributes={"latency": 1, "jitter": 2})
    response = api.post(f"/proxies/{proxy}/toxics/latency_downstream", content=(
        b'{"attributes":{"latency":9},"attributes":null,"attributes":{"jitter":10}}'))
    assert response.status_code == 200, response.text
    assert response.json()["attributes"] == {"latency": 9, "jitter": 2}
    response = api.post(f"/proxies/{proxy}/toxics/latency_downstream",
                        content=b'{"attributes":null,"attributes":"not an object"}')
    assert response.status_code == 200, response.text
    assert response.json()["attributes"] == {"latency": 9, "jitter": 2}
