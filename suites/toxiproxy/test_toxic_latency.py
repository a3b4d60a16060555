"""latency toxic on real sockets (spec §9): delay = latency ± jitter per chunk, stacked toxics
add, and the delay never throttles throughput.

Mirrors toxics/latency_test.go: TestUpstreamLatency, TestDownstreamLatency,
TestFullstreamLatencyEven/Bias, TestFullstreamLatencyJitter, TestLatencyToxicBandwidth;
link_test.go / api_test.go: TestTwoLatencyToxics.

Bounds: lower = the smallest delay the spec allows (strict), upper = largest + net.SLACK_MS.
"""
from __future__ import annotations

import time
from collections.abc import Callable

import httpx
import pytest

from suites.toxiproxy import admin, net
from suites.toxiproxy.upstreams import Behaviour, Proxied, Upstream, paced_source

ROUND_TRIPS = 3


@pytest.mark.parametrize(
    ("toxics", "low_ms", "high_ms"),
    [
        ({"upstream": (100, 0)}, 100, 100),
        ({"downstream": (100, 0)}, 100, 100),
        ({"upstream": (60, 0), "downstream": (80, 0)}, 140, 140),
        ({"upstream": (100, 20)}, 80, 119),
        ({"upstream": (50, 10), "downstream": (70, 20)}, 90, 148),
    ],
    ids=["upstream", "downstream", "both-streams", "jitter", "both-with-jitter"],
)
def test_round_trip_is_delayed_by_latency_within_jitter(
    api: httpx.Client, echo_proxy: Proxied, toxics: dict[str, tuple[int, int]],
    low_ms: float, high_ms: float,
) -> None:
    for stream, (latency, jitter) in toxics.items():
        admin.add_toxic(api, echo_proxy.name, "latency", stream=stream,
                        attributes={"latency": latency, "jitter": jitter})
    with net.connect(echo_proxy.port) as client:
        for index in range(ROUND_TRIPS):
            elapsed = net.round_trip_ms(client, b"ping %d" % index)
            net.assert_delay(elapsed, low_ms, high_ms)


def test_two_latency_toxics_in_one_stream_add_up(api: httpx.Client, echo_proxy: Proxied) -> None:
    admin.add_toxic(api, echo_proxy.name, "latency", name="first", attributes={"latency": 100})
    admin.add_toxic(api, echo_proxy.name, "latency", name="second", attributes={"latency": 150})
    with net.connect(echo_proxy.port) as client:
        elapsed = net.round_trip_ms(client, b"ping")
    net.assert_delay(elapsed, 250)


def test_latency_does_not_throttle_a_steady_stream(
    api: httpx.Client, upstream_factory: Callable[[Behaviour], Upstream]
) -> None:
    """40 records sent every 10 ms must each arrive ~100 ms after they were sent.

    A latency toxic that delayed each chunk after the previous one (throttling) would make
    record i arrive ~100*(i+1) ms late instead.
    """
    record_size, count, interval_s, latency = 1024, 40, 0.010, 100
    records = [bytes([index]) * record_size for index in range(count)]
    sent_at: list[float] = []
    upstream = upstream_factory(paced_source(records, interval_s=interval_s, sent_at=sent_at))
    proxy = admin.create_proxy(api, upstream.address)
    admin.add_toxic(api, proxy["name"], "latency", attributes={"latency": latency})

    delays = []
    with net.connect(admin.port_of(proxy["listen"])) as client:
        for index in range(count):
            assert net.recv_exactly(client, record_size) == records[index]
            delays.append((time.monotonic() - sent_at[index]) * 1000)
    assert min(delays) >= latency, f"a record arrived early: {min(delays):.1f} ms"
    assert max(delays) <= latency + net.SLACK_MS, f"records were held back: {delays}"


def test_negative_latency_is_accepted_and_means_no_delay(
    api: httpx.Client, echo_proxy: Proxied
) -> None:
    """No range validation upstream: a negative delay simply does not wait."""
    toxic = admin.add_toxic(api, echo_proxy.name, "latency", attributes={"latency": -100})
    assert toxic["attributes"]["latency"] == -100
    with net.connect(echo_proxy.port) as client:
        net.assert_fast(net.round_trip_ms(client, b"no wait"))
