"""bandwidth toxic (spec §9): `rate` is KB/s with KB = 1000 bytes; rate 0 stalls the stream
until the toxic is removed, and then the held bytes are flushed.

Mirrors toxics/bandwidth_test.go: TestBandwidthToxic (480 000 B at rate 1000 ~ 480 ms);
rate 0 is what Testcontainers' setConnectionCut relies on.
"""
from __future__ import annotations

import os
import time
from collections.abc import Callable

import httpx

from suites.toxiproxy import admin, net
from suites.toxiproxy.upstreams import Behaviour, Upstream, sink, source

PACING_TOLERANCE_MS = 10
"""Upstream's own tolerance: pacing corrects timer error by carrying sleep debt forward."""


def test_downstream_rate_paces_480000_bytes_over_480_ms(
    api: httpx.Client, upstream_factory: Callable[[Behaviour], Upstream]
) -> None:
    payload = os.urandom(480_000)
    upstream = upstream_factory(source(payload))
    proxy = admin.create_proxy(api, upstream.address)
    admin.add_toxic(api, proxy["name"], "bandwidth", attributes={"rate": 1000})

    started = time.monotonic()
    with net.connect(admin.port_of(proxy["listen"])) as client:
        received = net.recv_exactly(client, len(payload))
    elapsed = (time.monotonic() - started) * 1000

    assert received == payload
    net.assert_delay(elapsed, 480 - PACING_TOLERANCE_MS, 480)


def test_upstream_rate_paces_client_bytes(
    api: httpx.Client, upstream_factory: Callable[[Behaviour], Upstream]
) -> None:
    upstream = upstream_factory(sink())
    proxy = admin.create_proxy(api, upstream.address)
    admin.add_toxic(api, proxy["name"], "bandwidth", stream="upstream", attributes={"rate": 100})
    payload = os.urandom(25_000)  # 25 000 B at 100 000 B/s = 250 ms

    with net.connect(admin.port_of(proxy["listen"])) as client:
        started = time.monotonic()
        client.sendall(payload)
        conn = upstream.wait_for_connections(1)[0]
        assert net.wait_until(lambda: len(conn.received) >= len(payload), timeout=3.0)
        elapsed = (time.monotonic() - started) * 1000

    assert bytes(conn.received) == payload
    net.assert_delay(elapsed, 250 - PACING_TOLERANCE_MS, 250)


def test_rate_zero_stalls_and_removal_flushes_the_held_bytes(
    api: httpx.Client, upstream_factory: Callable[[Behaviour], Upstream]
) -> None:
    upstream = upstream_factory(source(b"held back"))
    proxy = admin.create_proxy(api, upstream.address)
    admin.add_toxic(api, proxy["name"], "bandwidth", attributes={"rate": 0})

    with net.connect(admin.port_of(proxy["listen"])) as client:
        net.assert_silent(client, for_seconds=0.4)
        admin.remove_toxic(api, proxy["name"], "bandwidth_downstream")
        removed = time.monotonic()
        assert net.recv_exactly(client, len(b"held back"), timeout=2.0) == b"held back"
        flushed_after = (time.monotonic() - removed) * 1000

    assert flushed_after <= net.SLACK_MS + 100, f"flush took {flushed_after:.1f} ms"


def test_rate_zero_on_both_streams_cuts_the_connection_without_closing_it(
    api: httpx.Client, upstream_factory: Callable[[Behaviour], Upstream]
) -> None:
    upstream = upstream_factory(sink())
    proxy = admin.create_proxy(api, upstream.address)
    for stream in ("upstream", "downstream"):
        admin.add_toxic(api, proxy["name"], "bandwidth", stream=stream,
                        name=f"CUT_CONNECTION_{stream.upper()}", attributes={"rate": 0})
    with net.connect(admin.port_of(proxy["listen"])) as client:
        client.sendall(b"into the void")
        net.assert_silent(client, for_seconds=0.3)
        conn = upstream.wait_for_connections(1)[0]
        assert bytes(conn.received) == b""
        admin.remove_toxic(api, proxy["name"], "CUT_CONNECTION_UPSTREAM")
        assert net.wait_until(lambda: bytes(conn.received) == b"into the void", timeout=2.0)
