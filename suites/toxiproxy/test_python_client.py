"""toxiproxy-python (PyPI `toxiproxy-python`, import `toxiproxy`) against the server under test.

Why: the harness' fault library drives Toxiproxy through this client, so every call it makes
must work end to end. The client keeps its server address in class attributes of
`toxiproxy.api.APIConsumer`; the fixture points them at the server and restores them.
"""
from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from toxiproxy import Proxy, Toxiproxy
from toxiproxy.api import APIConsumer
from toxiproxy.exceptions import InvalidToxic, NotFound, ProxyExists

from suites.toxiproxy import admin, net
from suites.toxiproxy.upstreams import Upstream


@pytest.fixture
def client(toxiproxy_url: str) -> Iterator[Toxiproxy]:
    url = httpx.URL(toxiproxy_url)
    previous = (APIConsumer.host, APIConsumer.port)
    server = Toxiproxy()
    server.update_api_consumer(url.host, url.port)
    yield server
    server.update_api_consumer(*previous)


@pytest.fixture
def proxy(client: Toxiproxy, echo_upstream: Upstream) -> Proxy:
    return client.create(upstream=echo_upstream.address, name=admin.unique_name("py"))


def test_version_returns_the_raw_version_body(client: Toxiproxy) -> None:
    assert re.fullmatch(rb'\{"version": "2\.\d+\.\d+[^"\s]*"\}\n', client.version())


def test_create_listens_on_a_real_port_and_carries_traffic(client: Toxiproxy, proxy: Proxy) -> None:
    assert proxy.enabled is True
    assert proxy.listen.startswith("127.0.0.1:")
    with net.connect(admin.port_of(proxy.listen)) as sock:
        net.round_trip_ms(sock, b"via toxiproxy-python")


def test_create_with_an_existing_name_raises_proxy_exists(client: Toxiproxy, proxy: Proxy) -> None:
    with pytest.raises(ProxyExists):
        client.create(upstream=proxy.upstream, name=proxy.name)


def test_proxies_and_get_proxy_see_created_proxies(client: Toxiproxy, proxy: Proxy) -> None:
    proxies = client.proxies()
    assert set(proxies) == {proxy.name}
    fetched = client.get_proxy(proxy.name)
    assert fetched is not None
    assert (fetched.name, fetched.listen, fetched.upstream) == (proxy.name, proxy.listen,
                                                                proxy.upstream)
    assert client.get_proxy("no_such_proxy") is None


def test_populate_creates_missing_proxies(client: Toxiproxy, echo_upstream: Upstream) -> None:
    names = [admin.unique_name("pop"), admin.unique_name("pop")]
    created = client.populate([
        {"name": name, "upstream": echo_upstream.address, "listen": "127.0.0.1:0"}
        for name in names
    ])
    assert sorted(p.name for p in created) == sorted(names)
    assert set(client.proxies()) == set(names)
    for created_proxy in created:
        assert net.is_listening(admin.port_of(created_proxy.listen))


def test_add_toxic_then_toxics_and_get_toxic_show_it(client: Toxiproxy, proxy: Proxy) -> None:
    proxy.add_toxic(type="latency", attributes={"latency": 120, "jitter": 0})
    toxics = proxy.toxics()
    assert set(toxics) == {"latency_downstream"}
    toxic = proxy.get_toxic("latency_downstream")
    assert toxic is not None
    assert (toxic.type, toxic.stream, toxic.toxicity) == ("latency", "downstream", 1)
    assert toxic.attributes == {"latency": 120, "jitter": 0}


def test_added_latency_toxic_delays_traffic(client: Toxiproxy, proxy: Proxy) -> None:
    proxy.add_toxic(type="latency", stream="upstream", attributes={"latency": 120})
    with net.connect(admin.port_of(proxy.listen)) as sock:
        elapsed = net.round_trip_ms(sock, b"slow")
    net.assert_delay(elapsed, 120)


def test_add_toxic_of_unknown_type_raises_invalid_toxic(client: Toxiproxy, proxy: Proxy) -> None:
    with pytest.raises(InvalidToxic):
        proxy.add_toxic(type="no_such_toxic")


def test_destroy_toxic_removes_it(client: Toxiproxy, proxy: Proxy) -> None:
    proxy.add_toxic(type="timeout", name="cut", attributes={"timeout": 0})
    assert proxy.destroy_toxic("cut") is True
    assert proxy.toxics() == {}
    with pytest.raises(NotFound):
        proxy.destroy_toxic("cut")


def test_down_context_manager_cuts_and_restores_the_proxy(client: Toxiproxy, proxy: Proxy) -> None:
    port = admin.port_of(proxy.listen)
    with net.connect(port) as live:
        net.round_trip_ms(live, b"before")
        with proxy.down():
            assert not net.is_listening(port)
            assert net.read_until_closed(live, timeout=2.0).closure is not None
            assert client.get_proxy(proxy.name).enabled is False
    assert client.get_proxy(proxy.name).enabled is True
    with net.connect(port) as fresh:
        net.round_trip_ms(fresh, b"after")


def test_reset_re_enables_and_clears_toxics(client: Toxiproxy, proxy: Proxy) -> None:
    proxy.add_toxic(type="latency", attributes={"latency": 500})
    proxy.disable()
    assert client.reset() is True
    fetched = client.get_proxy(proxy.name)
    assert fetched is not None and fetched.enabled is True
    assert proxy.toxics() == {}
    assert net.is_listening(admin.port_of(proxy.listen))


def test_destroy_deletes_the_proxy(client: Toxiproxy, proxy: Proxy) -> None:
    assert client.destroy(proxy) is True
    assert client.get_proxy(proxy.name) is None
    assert not net.is_listening(admin.port_of(proxy.listen))
    with pytest.raises(NotFound):
        proxy.destroy()
