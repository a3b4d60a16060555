"""Toxics added, updated and removed on open connections (spec §8, §11): changes apply to
live links at once, per-connection state starts at hot-add, and nothing is lost or reordered.

Mirrors link_test.go / toxic_collection tests: TestNoDataDropped, TestToxicAddRemove,
TestPersistentConnections, TestStateCreatedOnHotAdd (limit_data), TestToxicity (0 then 1).
"""
from __future__ import annotations

import struct
import threading
import time

import httpx

from suites.toxiproxy import admin, net
from suites.toxiproxy.upstreams import Proxied


def test_hot_added_latency_slows_an_open_connection(api: httpx.Client, echo_proxy: Proxied) -> None:
    with net.connect(echo_proxy.port) as client:
        net.assert_fast(net.round_trip_ms(client, b"fast"))
        admin.add_toxic(api, echo_proxy.name, "latency", stream="upstream",
                        attributes={"latency": 150})
        elapsed = net.round_trip_ms(client, b"slow")
    net.assert_delay(elapsed, 150)


def test_removed_latency_stops_delaying_an_open_connection(
    api: httpx.Client, echo_proxy: Proxied
) -> None:
    admin.add_toxic(api, echo_proxy.name, "latency", attributes={"latency": 150})
    with net.connect(echo_proxy.port) as client:
        assert net.round_trip_ms(client, b"slow") >= 150
        admin.remove_toxic(api, echo_proxy.name, "latency_downstream")
        net.assert_fast(net.round_trip_ms(client, b"fast"))


def test_updated_latency_applies_to_an_open_connection(
    api: httpx.Client, echo_proxy: Proxied
) -> None:
    admin.add_toxic(api, echo_proxy.name, "latency", attributes={"latency": 60})
    with net.connect(echo_proxy.port) as client:
        net.assert_delay(net.round_trip_ms(client, b"a"), 60)
        admin.update_toxic(api, echo_proxy.name, "latency_downstream",
                           {"attributes": {"latency": 200}})
        elapsed = net.round_trip_ms(client, b"b")
    net.assert_delay(elapsed, 200)


def test_removing_latency_forwards_held_data_at_once(
    api: httpx.Client, echo_proxy: Proxied
) -> None:
    admin.add_toxic(api, echo_proxy.name, "latency", attributes={"latency": 1000})
    with net.connect(echo_proxy.port) as client:
        started = time.monotonic()
        client.sendall(b"in flight")
        time.sleep(0.05)
        admin.remove_toxic(api, echo_proxy.name, "latency_downstream")
        assert net.recv_exactly(client, len(b"in flight")) == b"in flight"
        elapsed = (time.monotonic() - started) * 1000
    assert elapsed < 500, f"held data waited {elapsed:.0f} ms after removal"


def test_toxicity_zero_then_one_takes_effect_on_the_live_link(
    api: httpx.Client, echo_proxy: Proxied
) -> None:
    admin.add_toxic(api, echo_proxy.name, "latency", toxicity=0, attributes={"latency": 200})
    with net.connect(echo_proxy.port) as client:
        net.assert_fast(net.round_trip_ms(client, b"unaffected"))
        admin.update_toxic(api, echo_proxy.name, "latency_downstream", {"toxicity": 1})
        elapsed = net.round_trip_ms(client, b"affected")
    net.assert_delay(elapsed, 200)


def test_limit_data_counts_from_the_moment_it_is_hot_added(
    api: httpx.Client, echo_proxy: Proxied
) -> None:
    with net.connect(echo_proxy.port) as client:
        net.round_trip_ms(client, b"x" * 30)
        admin.add_toxic(api, echo_proxy.name, "limit_data", attributes={"bytes": 10})
        client.sendall(b"y" * 30)
        outcome = net.read_until_closed(client, timeout=2.0)
    assert outcome.data == b"y" * 10
    assert outcome.closure is not None


def test_limit_data_count_survives_an_update(api: httpx.Client, echo_proxy: Proxied) -> None:
    admin.add_toxic(api, echo_proxy.name, "limit_data", attributes={"bytes": 100})
    with net.connect(echo_proxy.port) as client:
        net.round_trip_ms(client, b"a" * 60)
        admin.update_toxic(api, echo_proxy.name, "limit_data_downstream",
                           {"attributes": {"bytes": 80}})
        client.sendall(b"b" * 60)
        outcome = net.read_until_closed(client, timeout=2.0)
    assert outcome.data == b"b" * 20
    assert outcome.closure is not None


def test_no_data_lost_or_reordered_while_toxics_come_and_go(
    api: httpx.Client, echo_proxy: Proxied
) -> None:
    """5 000 ordered 4-byte writes through an echo while latency toxics are added and removed
    on both streams in a tight loop; the echo must be exactly the sequence sent."""
    count = 5000
    received = bytearray()
    writer_done = threading.Event()
    cycles = 0

    toggle_errors: list[str] = []

    def toggle_toxics() -> None:
        nonlocal cycles
        with httpx.Client(base_url=str(api.base_url), timeout=10.0,
                          headers={"User-Agent": "crashcart-conformance/1"}) as toggler:
            while not writer_done.is_set():
                for stream in ("upstream", "downstream"):
                    response = toggler.post(f"/proxies/{echo_proxy.name}/toxics", json={
                        "type": "latency", "stream": stream, "attributes": {"latency": 1}})
                    if response.status_code != 200:
                        toggle_errors.append(f"add: {response.status_code} {response.text}")
                        return
                for stream in ("upstream", "downstream"):
                    response = toggler.delete(
                        f"/proxies/{echo_proxy.name}/toxics/latency_{stream}")
                    if response.status_code != 204:
                        toggle_errors.append(f"remove: {response.status_code} {response.text}")
                        return
                cycles += 1

    with net.connect(echo_proxy.port, timeout=10.0) as client:
        def read_all() -> None:
            while len(received) < 4 * count:
                chunk = client.recv(65536)
                if not chunk:
                    return
                received.extend(chunk)

        reader = threading.Thread(target=read_all, daemon=True)
        toggler = threading.Thread(target=toggle_toxics, daemon=True)
        reader.start()
        toggler.start()
        for index in range(count):
            client.sendall(struct.pack(">I", index))
            if index % 10 == 9:
                time.sleep(0.001)
        reader.join(timeout=15)
        writer_done.set()
        toggler.join(timeout=15)

    assert toggle_errors == []
    expected = b"".join(struct.pack(">I", index) for index in range(count))
    assert len(received) == len(expected), f"got {len(received)} of {len(expected)} bytes"
    assert bytes(received) == expected, "bytes were reordered or corrupted"
    assert cycles >= 5, f"only {cycles} add/remove cycles ran during the writes"
