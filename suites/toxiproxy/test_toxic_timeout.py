"""timeout toxic (spec §8, §9): drops all data; closes after `timeout` ms without data on its
stream (re-armed by each dropped chunk); timeout 0 never closes; removal closes both sides.

Mirrors toxics/timeout_test.go: TestTimeoutToxicDoesNotCauseHang,
TestTimeoutToxicClosesConnectionOnRemove; issue #159 (removing a latency toxic in front of a
timeout-0 toxic must not hang the API).
"""
from __future__ import annotations

import time

import httpx
import pytest

from suites.toxiproxy import admin, net
from suites.toxiproxy.upstreams import Proxied


@pytest.mark.parametrize("stream", ["upstream", "downstream"])
def test_idle_connection_is_closed_after_timeout(
    api: httpx.Client, echo_proxy: Proxied, stream: str
) -> None:
    admin.add_toxic(api, echo_proxy.name, "timeout", stream=stream, attributes={"timeout": 100})
    started = time.monotonic()
    with net.connect(echo_proxy.port) as client:
        outcome = net.read_until_closed(client, timeout=2.0, started=started)
    assert outcome.data == b""
    assert outcome.closure is not None, "connection was never closed"
    net.assert_delay(outcome.elapsed_ms, 100)


def test_timeout_zero_drops_data_and_keeps_the_connection_open(
    api: httpx.Client, echo_proxy: Proxied
) -> None:
    admin.add_toxic(api, echo_proxy.name, "timeout", attributes={"timeout": 0})
    with net.connect(echo_proxy.port) as client:
        client.sendall(b"lost in transit")
        net.assert_silent(client, for_seconds=0.4)
    conn = echo_proxy.upstream.wait_for_connections(1)[0]
    assert bytes(conn.received) == b"lost in transit", "upstream stream must be untouched"


def test_each_dropped_chunk_re_arms_the_timer(api: httpx.Client, echo_proxy: Proxied) -> None:
    admin.add_toxic(api, echo_proxy.name, "timeout", stream="upstream",
                    attributes={"timeout": 250})
    with net.connect(echo_proxy.port) as client:
        last_send = time.monotonic()
        for _ in range(6):  # ~600 ms of traffic, never 250 ms apart
            last_send = time.monotonic()  # taken before the send: sleep() may overshoot
            client.sendall(b".")
            time.sleep(0.1)
        outcome = net.read_until_closed(client, timeout=2.0, started=last_send)
    assert outcome.data == b""
    assert outcome.closure is not None
    net.assert_delay(outcome.elapsed_ms, 250)


def test_removing_a_timeout_toxic_closes_both_sides(api: httpx.Client, echo_proxy: Proxied) -> None:
    admin.add_toxic(api, echo_proxy.name, "timeout", attributes={"timeout": 0})
    with net.connect(echo_proxy.port) as client:
        client.sendall(b"dropped")
        net.assert_silent(client, for_seconds=0.2)
        admin.remove_toxic(api, echo_proxy.name, "timeout_downstream")
        outcome = net.read_until_closed(client, timeout=2.0)
    assert outcome.data == b""
    assert outcome.closure is not None, "client side stayed open"
    conn = echo_proxy.upstream.wait_for_connections(1)[0]
    assert conn.closed.wait(2.0), "upstream side stayed open"


def test_removing_latency_in_front_of_timeout_zero_does_not_hang(
    api: httpx.Client, echo_proxy: Proxied
) -> None:
    admin.add_toxic(api, echo_proxy.name, "latency", attributes={"latency": 100})
    admin.add_toxic(api, echo_proxy.name, "timeout", attributes={"timeout": 0})
    with net.connect(echo_proxy.port) as client:
        for _ in range(5):
            client.sendall(b"data")
            time.sleep(0.02)
        started = time.monotonic()
        response = api.delete(f"/proxies/{echo_proxy.name}/toxics/latency_downstream",
                              timeout=5.0)
        elapsed = (time.monotonic() - started) * 1000
        assert response.status_code == 204
        assert elapsed < 1000, f"removal took {elapsed:.0f} ms"
        net.assert_silent(client, for_seconds=0.2)
    assert admin.toxic_names(api, echo_proxy.name) == ["timeout_downstream"]
