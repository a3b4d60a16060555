"""``chaos.faults``: ``toxic`` and ``proxy_down`` put a fault in place for one block and always
undo it (also when the block raises, and the exception still propagates); ``connect`` picks
the server toxiproxy-python talks to.

Faults are observed from outside: the toxic list over plain HTTP, refused connections on the
proxy's listen port, and echoes through it.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager

import httpx
import pytest
from toxiproxy import Toxiproxy

from chaos.faults import connect, proxy_down, toxic
from chaos.toxiproxy.runner import RunningServer, start_in_thread
from suites.toxiproxy import admin, net
from suites.toxiproxy.upstreams import Proxied


class BodyFailed(Exception):
    """Raised inside a fault block to prove the fault is undone and the error kept."""


def _toxics(api: httpx.Client, proxy: str) -> list[dict[str, object]]:
    response = api.get(f"/proxies/{proxy}/toxics")
    assert response.status_code == 200, response.text
    return list(response.json())


def _enabled(api: httpx.Client, proxy: str) -> bool:
    return bool(admin.get_proxy(api, proxy)["enabled"])


def _assert_serving(proxied: Proxied) -> None:
    """The proxy listens and carries traffic (a fault was undone)."""
    with net.connect(proxied.port) as sock:
        net.round_trip_ms(sock, b"still proxied")


def _fault(client: Toxiproxy, kind: str, proxy: str) -> AbstractContextManager[object]:
    """One fault of either kind on ``proxy``, for tests that hold for both."""
    if kind == "toxic":
        return toxic(client, proxy, "latency", latency=100)
    return proxy_down(client, proxy)


@pytest.fixture
def other_server() -> Iterator[RunningServer]:
    """A second embedded server, to tell which one toxiproxy-python is talking to."""
    with start_in_thread(host="127.0.0.1", port=0) as running:
        yield running


def test_toxic_is_on_the_server_inside_the_block_and_gone_after(
    client: Toxiproxy, api: httpx.Client, echo_proxy: Proxied
) -> None:
    with toxic(client, echo_proxy.name, "latency", stream="upstream", latency=150,
               jitter=0) as added:
        assert added.name == "latency_upstream"
        assert _toxics(api, echo_proxy.name) == [{
            "name": "latency_upstream", "type": "latency", "stream": "upstream",
            "toxicity": 1, "attributes": {"latency": 150, "jitter": 0}}]
        with net.connect(echo_proxy.port) as sock:
            net.assert_delay(net.round_trip_ms(sock, b"slow"), 150)
    assert _toxics(api, echo_proxy.name) == []
    with net.connect(echo_proxy.port) as sock:
        net.assert_fast(net.round_trip_ms(sock, b"fast again"))


def test_toxic_with_a_name_and_toxicity_is_added_as_given(
    client: Toxiproxy, api: httpx.Client, echo_proxy: Proxied
) -> None:
    with toxic(client, echo_proxy.name, "timeout", name="cut", toxicity=0.25, timeout=0):
        (listed,) = _toxics(api, echo_proxy.name)
        assert (listed["name"], listed["stream"], listed["toxicity"]) == ("cut", "downstream", 0.25)
    assert _toxics(api, echo_proxy.name) == []


def test_toxic_is_removed_when_the_body_raises(
    client: Toxiproxy, api: httpx.Client, echo_proxy: Proxied
) -> None:
    with pytest.raises(BodyFailed), toxic(client, echo_proxy.name, "latency", latency=100):
        assert len(_toxics(api, echo_proxy.name)) == 1
        raise BodyFailed
    assert _toxics(api, echo_proxy.name) == []


@pytest.mark.parametrize("fault", ["toxic", "proxy_down"])
def test_block_may_delete_its_proxy_and_its_error_is_kept(
    client: Toxiproxy, api: httpx.Client, echo_proxy: Proxied, fault: str
) -> None:
    with pytest.raises(BodyFailed), _fault(client, fault, echo_proxy.name):
        assert api.delete(f"/proxies/{echo_proxy.name}").status_code == 204
        raise BodyFailed
    assert api.get(f"/proxies/{echo_proxy.name}").status_code == 404


def test_proxy_down_refuses_connections_inside_and_serves_after(
    client: Toxiproxy, api: httpx.Client, echo_proxy: Proxied
) -> None:
    with proxy_down(client, echo_proxy.name) as proxy:
        assert proxy.name == echo_proxy.name
        assert not _enabled(api, echo_proxy.name)
        assert not net.is_listening(echo_proxy.port)
    assert _enabled(api, echo_proxy.name)
    _assert_serving(echo_proxy)


def test_proxy_down_re_enables_when_the_body_raises(
    client: Toxiproxy, api: httpx.Client, echo_proxy: Proxied
) -> None:
    with pytest.raises(BodyFailed), proxy_down(client, echo_proxy.name):
        assert not net.is_listening(echo_proxy.port)
        raise BodyFailed
    assert _enabled(api, echo_proxy.name)
    _assert_serving(echo_proxy)


@pytest.mark.parametrize("fault", ["toxic", "proxy_down"])
def test_missing_proxy_is_a_lookup_error_naming_it(client: Toxiproxy, fault: str) -> None:
    with pytest.raises(LookupError, match="'no_such_proxy'"), \
            _fault(client, fault, "no_such_proxy"):
        pytest.fail("the block must not run")


def test_nested_toxic_and_proxy_down_unwind_in_order(
    client: Toxiproxy, api: httpx.Client, echo_proxy: Proxied
) -> None:
    with pytest.raises(BodyFailed), \
            toxic(client, echo_proxy.name, "latency", latency=100), \
            proxy_down(client, echo_proxy.name):
        assert not net.is_listening(echo_proxy.port)
        assert [t["name"] for t in _toxics(api, echo_proxy.name)] == ["latency_downstream"]
        raise BodyFailed
    assert _enabled(api, echo_proxy.name)
    assert _toxics(api, echo_proxy.name) == []
    _assert_serving(echo_proxy)


def test_connect_points_the_client_at_that_server(
    server: RunningServer, other_server: RunningServer, echo_proxy: Proxied
) -> None:
    assert set(connect(server.url).proxies()) == {echo_proxy.name}
    assert connect(other_server.url).proxies() == {}
    assert set(connect(f"127.0.0.1:{server.port}").proxies()) == {echo_proxy.name}


def test_faults_are_undone_on_their_own_server_after_connect_elsewhere(
    client: Toxiproxy, api: httpx.Client, echo_proxy: Proxied, other_server: RunningServer
) -> None:
    """toxiproxy-python's address is global: a ``connect`` inside the block must not send
    the undo to the other server (leaving the fault in place on this one)."""
    with toxic(client, echo_proxy.name, "latency", latency=100), \
            proxy_down(client, echo_proxy.name):
        connect(other_server.url)
    assert _toxics(api, echo_proxy.name) == []
    assert _enabled(api, echo_proxy.name)
    _assert_serving(echo_proxy)
