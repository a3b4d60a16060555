"""Close-shaping toxics (spec §9): slow_close delays a close by `delay` ms with data untouched;
reset_peer answers the first chunk with a TCP RST (ECONNRESET) after `timeout` ms.

Mirrors toxics/slow_close_test.go and toxics/reset_peer_test.go: TestResetToxicNoTimeout,
TestResetToxicWithTimeout, TestResetToxicWithTimeoutDownstream.
"""
from __future__ import annotations

import time
from collections.abc import Callable

import httpx
import pytest

from suites.toxiproxy import admin, net
from suites.toxiproxy.upstreams import Behaviour, Proxied, Upstream, sink, source


def test_slow_close_delays_the_downstream_close(
    api: httpx.Client, upstream_factory: Callable[[Behaviour], Upstream]
) -> None:
    upstream = upstream_factory(source(b"goodbye", close_after=True))
    proxy = admin.create_proxy(api, upstream.address)
    admin.add_toxic(api, proxy["name"], "slow_close", attributes={"delay": 200})

    started = time.monotonic()
    with net.connect(admin.port_of(proxy["listen"])) as client:
        assert net.recv_exactly(client, len(b"goodbye")) == b"goodbye"
        data_ms = (time.monotonic() - started) * 1000
        outcome = net.read_until_closed(client, timeout=2.0, started=started)

    assert data_ms <= net.SLACK_MS, f"data itself was delayed: {data_ms:.1f} ms"
    assert outcome.closure == "eof"
    net.assert_delay(outcome.elapsed_ms, 200)


def test_slow_close_delays_the_upstream_close(
    api: httpx.Client, upstream_factory: Callable[[Behaviour], Upstream]
) -> None:
    upstream = upstream_factory(sink())
    proxy = admin.create_proxy(api, upstream.address)
    admin.add_toxic(api, proxy["name"], "slow_close", stream="upstream",
                    attributes={"delay": 200})
    client = net.connect(admin.port_of(proxy["listen"]))
    client.sendall(b"last words")
    conn = upstream.wait_for_connections(1)[0]
    assert net.wait_until(lambda: bytes(conn.received) == b"last words", timeout=2.0)
    closed_at = time.monotonic()
    client.close()
    assert conn.closed.wait(2.0)
    assert conn.closed_at is not None
    delay_ms = (conn.closed_at - closed_at) * 1000
    net.assert_delay(delay_ms, 200)


@pytest.mark.parametrize("stream", ["upstream", "downstream"])
def test_reset_peer_resets_the_client_on_first_data(
    api: httpx.Client, echo_proxy: Proxied, stream: str
) -> None:
    admin.add_toxic(api, echo_proxy.name, "reset_peer", stream=stream)
    with net.connect(echo_proxy.port) as client:
        client.sendall(b"hello")
        outcome = net.read_until_closed(client, timeout=2.0)
    assert outcome.closure == "reset", f"expected ECONNRESET, saw {outcome.closure}"
    assert outcome.data == b""


@pytest.mark.parametrize("stream", ["upstream", "downstream"])
def test_reset_peer_with_timeout_resets_after_that_many_ms(
    api: httpx.Client, echo_proxy: Proxied, stream: str
) -> None:
    admin.add_toxic(api, echo_proxy.name, "reset_peer", stream=stream,
                    attributes={"timeout": 100})
    with net.connect(echo_proxy.port) as client:
        started = time.monotonic()
        client.sendall(b"hello")
        outcome = net.read_until_closed(client, timeout=2.0, started=started)
    assert outcome.closure == "reset"
    net.assert_delay(outcome.elapsed_ms, 100)


def test_reset_peer_leaves_idle_connections_alone(api: httpx.Client, echo_proxy: Proxied) -> None:
    admin.add_toxic(api, echo_proxy.name, "reset_peer", stream="upstream")
    with net.connect(echo_proxy.port) as client:
        net.assert_silent(client, for_seconds=0.3)
