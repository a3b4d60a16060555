"""The data path without toxics (spec §6, §10): bytes pass unchanged, closes propagate, a dead
upstream means "accept then EOF", and disabling/deleting a proxy kills its live connections.

Mirrors proxy_test.go: TestSimpleServer, TestProxyToDownUpstream, TestProxyTwoPartMessage,
TestClosingProxyMultipleTimes; link_test.go: TestStateless... (64 KiB payload).
"""
from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable

import httpx
import pytest

from suites.toxiproxy import admin, net
from suites.toxiproxy.upstreams import Behaviour, Proxied, Upstream, sink, source


@pytest.mark.parametrize(
    "parts",
    [[b"hello world"], [os.urandom(64 * 1024)], [b"hello ", b"world"]],
    ids=["small", "64KiB", "two-part"],
)
def test_echo_through_proxy_is_byte_identical(echo_proxy: Proxied, parts: list[bytes]) -> None:
    expected = b"".join(parts)
    with net.connect(echo_proxy.port) as client:
        for part in parts:
            client.sendall(part)
            time.sleep(0.01)
        assert net.recv_exactly(client, len(expected)) == expected
    conn = echo_proxy.upstream.wait_for_connections(1)[0]
    assert net.wait_until(lambda: bytes(conn.received) == expected, timeout=2.0)


def test_concurrent_connections_keep_their_own_bytes(echo_proxy: Proxied) -> None:
    failures: list[str] = []

    def talk(index: int) -> None:
        payload = (b"%03d:" % index) * 2000
        try:
            with net.connect(echo_proxy.port) as client:
                client.sendall(payload)
                if net.recv_exactly(client, len(payload)) != payload:
                    failures.append(f"connection {index} got foreign bytes")
        except AssertionError as exc:
            failures.append(f"connection {index}: {exc}")

    threads = [threading.Thread(target=talk, args=(i,)) for i in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert failures == []


def test_down_upstream_means_accept_then_eof_quickly(api: httpx.Client) -> None:
    dead_port = net.free_port()
    proxy = admin.create_proxy(api, f"127.0.0.1:{dead_port}")
    with net.connect(admin.port_of(proxy["listen"])) as client:
        outcome = net.read_until_closed(client, timeout=2.0)
    assert outcome.data == b""
    assert outcome.closure == "eof"
    assert outcome.elapsed_ms < 500


def test_upstream_close_reaches_the_client_as_eof(
    api: httpx.Client, upstream_factory: Callable[[Behaviour], Upstream]
) -> None:
    upstream = upstream_factory(source(b"bye", close_after=True))
    proxy = admin.create_proxy(api, upstream.address)
    with net.connect(admin.port_of(proxy["listen"])) as client:
        outcome = net.read_until_closed(client, timeout=2.0)
    assert outcome.data == b"bye"
    assert outcome.closure == "eof"


def test_client_half_close_closes_the_whole_connection(
    api: httpx.Client, upstream_factory: Callable[[Behaviour], Upstream]
) -> None:
    """No TCP half-close: the upstream keeps its side open, yet the client is closed too."""
    upstream = upstream_factory(sink(hold_open=True))
    proxy = admin.create_proxy(api, upstream.address)
    with net.connect(admin.port_of(proxy["listen"])) as client:
        client.sendall(b"last words")
        client.shutdown(socket.SHUT_WR)
        outcome = net.read_until_closed(client, timeout=2.0)
    assert outcome.closure in ("eof", "reset"), "half-closed client was left open"
    conn = upstream.wait_for_connections(1)[0]
    assert conn.closed.wait(2.0)
    assert bytes(conn.received) == b"last words"


@pytest.mark.parametrize("method", ["POST", "PATCH"])
def test_disabling_closes_live_connections_on_both_sides(
    api: httpx.Client, echo_proxy: Proxied, method: str
) -> None:
    with net.connect(echo_proxy.port) as client:
        net.round_trip_ms(client, b"alive")
        admin.update_proxy(api, echo_proxy.name, {"enabled": False}, method=method)
        outcome = net.read_until_closed(client, timeout=2.0)
    assert outcome.closure in ("eof", "reset")
    conn = echo_proxy.upstream.wait_for_connections(1)[0]
    assert conn.closed.wait(2.0), "upstream side of the link stayed open"
    with pytest.raises(ConnectionRefusedError):
        net.connect(echo_proxy.port, timeout=1.0)


def test_re_enabled_proxy_carries_traffic_again(api: httpx.Client, echo_proxy: Proxied) -> None:
    admin.update_proxy(api, echo_proxy.name, {"enabled": False})
    admin.update_proxy(api, echo_proxy.name, {"enabled": True})
    with net.connect(echo_proxy.port) as client:
        net.round_trip_ms(client, b"back again")


def test_deleting_closes_live_connections(api: httpx.Client, echo_proxy: Proxied) -> None:
    with net.connect(echo_proxy.port) as client:
        net.round_trip_ms(client, b"alive")
        assert api.delete(f"/proxies/{echo_proxy.name}").status_code == 204
        outcome = net.read_until_closed(client, timeout=2.0)
    assert outcome.closure in ("eof", "reset")
    assert echo_proxy.upstream.wait_for_connections(1)[0].closed.wait(2.0)


def test_reset_keeps_live_connections_of_enabled_proxies(
    api: httpx.Client, echo_proxy: Proxied
) -> None:
    with net.connect(echo_proxy.port) as client:
        net.round_trip_ms(client, b"one")
        assert api.post("/reset").status_code == 204
        net.round_trip_ms(client, b"two")


def test_toxics_survive_disable_and_apply_after_re_enable(
    api: httpx.Client, echo_proxy: Proxied
) -> None:
    admin.add_toxic(api, echo_proxy.name, "latency", attributes={"latency": 100})
    admin.update_proxy(api, echo_proxy.name, {"enabled": False})
    admin.update_proxy(api, echo_proxy.name, {"enabled": True})
    assert admin.toxic_names(api, echo_proxy.name) == ["latency_downstream"]
    with net.connect(echo_proxy.port) as client:
        net.assert_delay(net.round_trip_ms(client, b"slow again"), 100)
