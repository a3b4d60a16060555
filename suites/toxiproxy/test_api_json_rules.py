"""Request-body decoding (spec §2 "JSON decoding rules", §4 validation order): bad bodies are
400 `bad request body: ...`, keys are case-insensitive, unknown keys are ignored, `null` keeps
the current/default value, and the server keeps serving after every bad input.
"""
from __future__ import annotations

import httpx
import pytest

from suites.toxiproxy import admin


@pytest.fixture
def proxy(api: httpx.Client) -> str:
    return admin.create_proxy(api, "127.0.0.1:1")["name"]


BAD_PROXY_BODIES = {
    "truncated-json": b'{"name": "x", "upstream": ',
    "not-json": b"name=x&upstream=y",
    "array": b'[{"name": "x", "upstream": "y"}]',
    "name-is-number": b'{"name": 1, "upstream": "127.0.0.1:1"}',
    "enabled-is-string": b'{"name": "x", "upstream": "127.0.0.1:1", "enabled": "yes"}',
    "listen-is-object": b'{"name": "x", "upstream": "127.0.0.1:1", "listen": {}}',
}


@pytest.mark.parametrize("content", list(BAD_PROXY_BODIES.values()), ids=list(BAD_PROXY_BODIES))
def test_bad_create_proxy_body_is_400_and_nothing_is_created(
    api: httpx.Client, content: bytes
) -> None:
    admin.assert_bad_body(api.post("/proxies", content=content))
    assert api.get("/proxies").json() == {}
    admin.assert_still_serving(api)


def test_empty_create_proxy_body_is_bad_request_eof(api: httpx.Client) -> None:
    admin.assert_api_error(api.post("/proxies", content=b""), 400, "bad request body: EOF")


@pytest.mark.parametrize(
    "content",
    [b"{", b'{"enabled": "no"}', b'{"upstream": 5}', b"", b'"str"'],
    ids=["truncated", "enabled-is-string", "upstream-is-number", "empty", "string"],
)
def test_bad_update_proxy_body_is_400_and_proxy_unchanged(
    api: httpx.Client, proxy: str, content: bytes
) -> None:
    before = admin.get_proxy(api, proxy)
    admin.assert_bad_body(api.post(f"/proxies/{proxy}", content=content))
    assert admin.get_proxy(api, proxy) == before


BAD_TOXIC_BODIES = {
    "truncated": b'{"type": "latency", ',
    "empty": b"",
    "type-is-number": b'{"type": 3}',
    "toxicity-is-string": b'{"type": "latency", "toxicity": "high"}',
    "attributes-is-list": b'{"type": "latency", "attributes": [100]}',
    "attribute-is-string": b'{"type": "latency", "attributes": {"latency": "100ms"}}',
    "attribute-is-fraction": b'{"type": "latency", "attributes": {"latency": 100.5}}',
}


@pytest.mark.parametrize("content", list(BAD_TOXIC_BODIES.values()), ids=list(BAD_TOXIC_BODIES))
def test_bad_add_toxic_body_is_400_and_no_toxic_is_added(
    api: httpx.Client, proxy: str, content: bytes
) -> None:
    admin.assert_bad_body(api.post(f"/proxies/{proxy}/toxics", content=content))
    assert admin.toxic_names(api, proxy) == []
    admin.assert_still_serving(api)


@pytest.mark.parametrize(
    "content",
    [b"{", b'{"toxicity": "x"}', b'{"attributes": {"latency": "slow"}}',
     b'{"attributes": {"jitter": 1.5}}'],
    ids=["truncated", "toxicity-is-string", "attribute-is-string", "attribute-is-fraction"],
)
def test_bad_update_toxic_body_is_400(api: httpx.Client, proxy: str, content: bytes) -> None:
    admin.add_toxic(api, proxy, "latency", attributes={"latency": 100, "jitter": 5})
    response = api.patch(f"/proxies/{proxy}/toxics/latency_downstream", content=content)
    admin.assert_bad_body(response)
    admin.assert_still_serving(api)


def test_stream_is_validated_before_type(api: httpx.Client, proxy: str) -> None:
    response = api.post(f"/proxies/{proxy}/toxics", json={"type": "bogus", "stream": "bogus"})
    admin.assert_api_error(response, 400, admin.INVALID_STREAM)


def test_type_is_validated_before_name_uniqueness(api: httpx.Client, proxy: str) -> None:
    admin.add_toxic(api, proxy, "latency", name="taken")
    response = api.post(f"/proxies/{proxy}/toxics", json={"type": "bogus", "name": "taken"})
    admin.assert_api_error(response, 400, "invalid toxic type")


def test_keys_are_case_insensitive(api: httpx.Client) -> None:
    name = admin.unique_name()
    response = api.post("/proxies", json={"NAME": name, "Listen": "127.0.0.1:0",
                                          "UpStream": "127.0.0.1:1", "ENABLED": False})
    assert response.status_code == 201, response.text
    assert response.json()["name"] == name
    assert response.json()["enabled"] is False
    response = api.post(f"/proxies/{name}/toxics",
                        json={"Type": "latency", "STREAM": "upstream", "Toxicity": 0.5,
                              "Attributes": {"LATENCY": 42}})
    assert response.status_code == 200, response.text
    assert response.json()["attributes"] == {"latency": 42, "jitter": 0}
    assert response.json()["stream"] == "upstream"
    assert response.json()["toxicity"] == 0.5


def test_unknown_keys_are_ignored(api: httpx.Client) -> None:
    response = api.post("/proxies", json={"name": admin.unique_name(), "listen": "127.0.0.1:0",
                                          "upstream": "127.0.0.1:1", "colour": "red"})
    assert response.status_code == 201
    assert list(response.json()) == admin.PROXY_FIELDS


def test_null_enabled_on_create_means_default_true(api: httpx.Client) -> None:
    response = api.post("/proxies", json={"name": admin.unique_name(), "listen": "127.0.0.1:0",
                                          "upstream": "127.0.0.1:1", "enabled": None})
    assert response.status_code == 201
    assert response.json()["enabled"] is True


def test_null_fields_on_update_keep_current_values(api: httpx.Client, proxy: str) -> None:
    before = admin.get_proxy(api, proxy)
    after = admin.update_proxy(api, proxy, {"enabled": None, "upstream": None, "listen": None})
    assert after == before


def test_null_stream_and_toxicity_on_create_mean_defaults(api: httpx.Client, proxy: str) -> None:
    toxic = admin.add_toxic(api, proxy, "latency")
    api.delete(f"/proxies/{proxy}/toxics/{toxic['name']}")
    response = api.post(f"/proxies/{proxy}/toxics",
                        json={"type": "latency", "stream": None, "toxicity": None})
    assert response.status_code == 200, response.text
    assert response.json()["stream"] == "downstream"
    assert response.json()["toxicity"] == 1


def test_null_toxicity_on_update_keeps_it(api: httpx.Client, proxy: str) -> None:
    admin.add_toxic(api, proxy, "latency", toxicity=0.5, attributes={"latency": 10})
    updated = admin.update_toxic(api, proxy, "latency_downstream", {"toxicity": None})
    assert updated["toxicity"] == 0.5
    assert updated["attributes"]["latency"] == 10


def test_only_the_first_json_value_of_a_body_is_read(api: httpx.Client) -> None:
    name = admin.unique_name()
    content = (b'{"name": "%s", "listen": "127.0.0.1:0", "upstream": "127.0.0.1:1"} trailing junk'
               % name.encode())
    response = api.post("/proxies", content=content)
    assert response.status_code == 201, response.text
    assert response.json()["name"] == name


# Extensions of the embedded server: upstream Toxiproxy accepts these values and then panics
# when data flows (each checked against a real 2.12 build): negative bandwidth; a slicer with
# average_size + size_variation < 1 (recursion until stack overflow) or size_variation above
# average_size + 1 (slice bounds out of range). Slicer values that work in Go are accepted:
# see test_toxic_slicer_limit_data.py.
INVALID_ATTRIBUTES = {
    "bandwidth-negative-rate": ("bandwidth", {"rate": -1}),
    "slicer-average-missing": ("slicer", {}),
    "slicer-average-zero": ("slicer", {"average_size": 0}),
    "slicer-variation-cancels-average": ("slicer", {"average_size": 10, "size_variation": -10}),
    "slicer-negative-average": ("slicer", {"average_size": -5, "size_variation": 6}),
    "slicer-variation-two-above-average": ("slicer", {"average_size": 10, "size_variation": 12}),
    "slicer-variation-far-above-average": ("slicer", {"average_size": 1, "size_variation": 3}),
}


@pytest.mark.embedded_only
@pytest.mark.parametrize(("toxic_type", "attributes"), list(INVALID_ATTRIBUTES.values()),
                         ids=list(INVALID_ATTRIBUTES))
def test_attribute_values_that_crash_upstream_are_rejected_with_400(
    api: httpx.Client, proxy: str, toxic_type: str, attributes: dict[str, int]
) -> None:
    body = {"type": toxic_type, "attributes": attributes}
    response = api.post(f"/proxies/{proxy}/toxics", json=body)
    assert response.status_code == 400, response.text
    assert response.json()["status"] == 400
    assert admin.toxic_names(api, proxy) == []
    admin.assert_still_serving(api)


@pytest.mark.embedded_only
def test_updating_to_a_crashing_value_is_rejected_and_keeps_the_old_value(
    api: httpx.Client, proxy: str
) -> None:
    admin.add_toxic(api, proxy, "bandwidth", attributes={"rate": 100})
    response = api.patch(f"/proxies/{proxy}/toxics/bandwidth_downstream",
                         json={"attributes": {"rate": -5}})
    assert response.status_code == 400, response.text
    current = api.get(f"/proxies/{proxy}/toxics/bandwidth_downstream").json()
    assert current["attributes"] == {"rate": 100}
