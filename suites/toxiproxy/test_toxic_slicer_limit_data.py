"""Byte-shaping toxics (spec §9): slicer cuts chunks into pieces of at most
average_size + size_variation bytes with `delay` µs between them; limit_data forwards at most
`bytes` bytes per connection and stream, then closes.

Mirrors toxics/slicer_test.go (TestSlicerToxic, TestSlicerToxicZeroSizeVariation) and
toxics/limit_data_test.go (below / equal / over the limit, several chunks, zero).

Slicer: the number of write() calls cannot be observed through TCP (the receiver's reads
coalesce), so these tests make slicing observable: with a delay of tens of ms between pieces,
the transfer takes at least (pieces - 1) * delay and the client sees many separate reads.
"""
from __future__ import annotations

import os
import time
from collections.abc import Callable

import httpx
import pytest

from suites.toxiproxy import admin, net
from suites.toxiproxy.upstreams import Behaviour, Proxied, Upstream, sink, source


def _sliced_download(
    api: httpx.Client, upstream_factory: Callable[[Behaviour], Upstream],
    payload: bytes, attributes: dict[str, int],
) -> net.ReadOutcome:
    upstream = upstream_factory(source(payload, close_after=True))
    proxy = admin.create_proxy(api, upstream.address)
    admin.add_toxic(api, proxy["name"], "slicer", attributes=attributes)
    started = time.monotonic()
    with net.connect(admin.port_of(proxy["listen"])) as client:
        return net.read_until_closed(client, timeout=10.0, started=started)


def test_slicer_passes_480_kb_unchanged(
    api: httpx.Client, upstream_factory: Callable[[Behaviour], Upstream]
) -> None:
    payload = os.urandom(480 * 1024)
    outcome = _sliced_download(api, upstream_factory, payload,
                               {"average_size": 1024, "size_variation": 512, "delay": 10})
    assert outcome.closure == "eof"
    assert outcome.data == payload


# Accepted by Go and transferring data intact (checked against a real 2.12 build), so they
# must not be rejected: the only slicer inputs refused are those that crash Go (see
# INVALID_ATTRIBUTES in test_api_json_rules.py).
WORKING_IN_GO = {
    "variation-equal-to-average": {"average_size": 10, "size_variation": 10},
    "variation-one-above-average": {"average_size": 10, "size_variation": 11},
    "negative-variation": {"average_size": 10, "size_variation": -1},
    "negative-variation-leaving-one-byte": {"average_size": 10, "size_variation": -9},
    "average-zero-variation-one": {"average_size": 0, "size_variation": 1},
}


@pytest.mark.parametrize("attributes", list(WORKING_IN_GO.values()), ids=list(WORKING_IN_GO))
def test_slicer_inputs_that_work_in_go_are_accepted_and_keep_data_intact(
    api: httpx.Client, upstream_factory: Callable[[Behaviour], Upstream],
    attributes: dict[str, int],
) -> None:
    payload = os.urandom(64 * 1024)
    outcome = _sliced_download(api, upstream_factory, payload, attributes)
    assert outcome.closure == "eof"
    assert outcome.data == payload


def test_slicer_spaces_pieces_by_delay(
    api: httpx.Client, upstream_factory: Callable[[Behaviour], Upstream]
) -> None:
    payload = os.urandom(10_000)
    delay_us, max_piece = 20_000, 1000
    outcome = _sliced_download(api, upstream_factory, payload,
                               {"average_size": max_piece, "size_variation": 0, "delay": delay_us})
    min_pieces = -(-len(payload) // max_piece)
    assert outcome.data == payload
    assert outcome.elapsed_ms >= (min_pieces - 1) * delay_us / 1000, f"{outcome.elapsed_ms:.1f} ms"
    assert len(outcome.recv_sizes) >= min_pieces // 2, f"reads: {outcome.recv_sizes}"


def test_slicer_average_one_without_variation_sends_byte_by_byte(
    api: httpx.Client, upstream_factory: Callable[[Behaviour], Upstream]
) -> None:
    payload = b"0123456789"
    delay_us = 25_000
    outcome = _sliced_download(api, upstream_factory, payload,
                               {"average_size": 1, "size_variation": 0, "delay": delay_us})
    assert outcome.data == payload
    assert outcome.elapsed_ms >= (len(payload) - 1) * delay_us / 1000
    single_bytes = sum(1 for size in outcome.recv_sizes if size == 1)
    assert single_bytes >= len(payload) // 2, f"reads: {outcome.recv_sizes}"


LIMIT_CASES = {
    # id: (limit, writes, bytes expected back, connection closed?)
    "below-limit": (100, [50], 50, False),
    "equal-to-limit": (100, [100], 100, True),
    "over-limit": (100, [150], 100, True),
    "several-chunks": (100, [40, 40, 40], 100, True),
    "zero": (0, [10], 0, True),
}


@pytest.mark.parametrize(("limit", "writes", "expected", "closes"), list(LIMIT_CASES.values()),
                         ids=list(LIMIT_CASES))
def test_limit_data_downstream(
    api: httpx.Client, echo_proxy: Proxied,
    limit: int, writes: list[int], expected: int, closes: bool,
) -> None:
    admin.add_toxic(api, echo_proxy.name, "limit_data", attributes={"bytes": limit})
    sent = b""
    with net.connect(echo_proxy.port) as client:
        for index, size in enumerate(writes):
            chunk = bytes([65 + index]) * size
            sent += chunk
            client.sendall(chunk)
            time.sleep(0.03)  # separate chunks on the proxy side
        outcome = net.read_until_closed(client, timeout=2.0 if closes else 0.4)
    assert outcome.data == sent[:expected]
    if closes:
        assert outcome.closure is not None, "connection stayed open past the limit"
    else:
        assert outcome.closure is None, "connection closed below the limit"


def test_limit_data_upstream_truncates_what_the_server_gets(
    api: httpx.Client, upstream_factory: Callable[[Behaviour], Upstream]
) -> None:
    upstream = upstream_factory(sink())
    proxy = admin.create_proxy(api, upstream.address)
    admin.add_toxic(api, proxy["name"], "limit_data", stream="upstream",
                    attributes={"bytes": 100})
    payload = os.urandom(150)
    with net.connect(admin.port_of(proxy["listen"])) as client:
        client.sendall(payload)
        outcome = net.read_until_closed(client, timeout=2.0)
    assert outcome.closure is not None
    conn = upstream.wait_for_connections(1)[0]
    assert conn.closed.wait(2.0)
    assert bytes(conn.received) == payload[:100]
