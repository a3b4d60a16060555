"""Toxics added, updated and removed on open connections (spec §8, §11): changes apply to
live links at once, per-connection state starts at hot-add, and nothing is lost or reordered.

Mirrors link_test.go / toxic_collection tests: TestNoDataDropped, TestToxicAddRemove,
TestPersistentConnections, TestStateCreatedOnHotAdd (limit_data), TestToxicity (0 then 1).
"""
from __future__ import annotations

import os
import socket
import struct
import threading
import time
from collections.abc import Callable

import httpx

from suites.toxiproxy import admin, net
from suites.toxiproxy.upstreams import Behaviour, Proxied, Upstream, UpstreamConnection, gated_sink


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


class _Toggler(threading.Thread):
    """Adds and removes a latency toxic on `streams` until stopped, pausing between changes
    so the stream also runs toxic-free for a while (the embedded server's zero-copy path)."""

    def __init__(self, base_url: str, proxy: str, streams: tuple[str, ...]) -> None:
        super().__init__(daemon=True)
        self.base_url, self.proxy, self.streams = base_url, proxy, streams
        self.cycles = 0
        self.errors: list[str] = []
        self.stopped = threading.Event()

    def run(self) -> None:
        with httpx.Client(base_url=self.base_url, timeout=10.0,
                          headers={"User-Agent": "crashcart-conformance/1"}) as toggler:
            while not self.stopped.is_set():
                for stream in self.streams:
                    response = toggler.post(f"/proxies/{self.proxy}/toxics", json={
                        "name": f"lag_{stream}", "type": "latency", "stream": stream,
                        "attributes": {"latency": 1}})
                    if response.status_code != 200:
                        self.errors.append(f"add: {response.status_code} {response.text}")
                        return
                time.sleep(0.02)
                for stream in self.streams:
                    response = toggler.delete(f"/proxies/{self.proxy}/toxics/lag_{stream}")
                    if response.status_code != 204:
                        self.errors.append(f"remove: {response.status_code} {response.text}")
                        return
                time.sleep(0.02)
                self.cycles += 1


def _numbered(first_record: int, size: int) -> bytes:
    return b"".join(struct.pack(">I", index) for index in range(first_record, first_record + size // 4))


def _bulk_echo_while_toggling(api: httpx.Client, proxy: Proxied, streams: tuple[str, ...]) -> None:
    """Stream numbered 64 KiB blocks through the echo as fast as it takes them while a toxic
    comes and goes (at least 5 cycles), then compare the echo byte for byte. The reader
    pauses after each read, so back-pressure keeps bytes queued inside the proxy (on the
    embedded server: in the splice pipe) at the moment a toxic is added."""
    block = 64 * 1024
    sent = bytearray()
    received = bytearray()
    toggler = _Toggler(str(api.base_url), proxy.name, streams)
    with net.connect(proxy.port, timeout=30.0) as client:
        def read_all() -> None:
            while chunk := client.recv(block):
                received.extend(chunk)
                time.sleep(0.0005)

        reader = threading.Thread(target=read_all, daemon=True)
        reader.start()
        toggler.start()
        while (toggler.cycles < 5 or len(sent) < 4 * block) and not toggler.errors \
                and len(sent) < 256 * 1024 * 1024:
            data = _numbered(len(sent) // 4, block)
            client.sendall(data)
            sent.extend(data)
        toggler.stopped.set()
        toggler.join(15)
        assert net.wait_until(lambda: len(received) >= len(sent), timeout=30.0), (
            f"echoed {len(received)} of {len(sent)} bytes")
        client.shutdown(socket.SHUT_WR)
        reader.join(15)
    assert toggler.errors == []
    assert toggler.cycles >= 5, f"only {toggler.cycles} add/remove cycles ran during the transfer"
    assert len(received) == len(sent), f"got {len(received)} of {len(sent)} bytes"
    assert bytes(received) == bytes(sent), "bytes were reordered or corrupted"


def test_bulk_upstream_keeps_every_byte_while_a_toxic_comes_and_goes(
    api: httpx.Client, echo_proxy: Proxied
) -> None:
    _bulk_echo_while_toggling(api, echo_proxy, ("upstream",))


def test_bulk_downstream_keeps_every_byte_while_a_toxic_comes_and_goes(
    api: httpx.Client, echo_proxy: Proxied
) -> None:
    _bulk_echo_while_toggling(api, echo_proxy, ("downstream",))


def test_bulk_echo_keeps_every_byte_while_toxics_come_and_go_on_both_streams(
    api: httpx.Client, echo_proxy: Proxied
) -> None:
    _bulk_echo_while_toggling(api, echo_proxy, ("upstream", "downstream"))


def test_toxic_added_to_an_idle_connection_after_bulk_traffic_applies_at_once(
    api: httpx.Client, echo_proxy: Proxied
) -> None:
    """A toxic-free connection that carried bulk data still gets a hot-added toxic."""
    payload = _numbered(0, 4 * 1024 * 1024)
    with net.connect(echo_proxy.port, timeout=30.0) as client:
        writer = threading.Thread(target=client.sendall, args=(payload,), daemon=True)
        writer.start()
        assert net.recv_exactly(client, len(payload), timeout=30.0) == payload
        writer.join(15)
        admin.add_toxic(api, echo_proxy.name, "latency", stream="downstream",
                        attributes={"latency": 150})
        net.assert_delay(net.round_trip_ms(client, b"now slow"), 150)
        admin.remove_toxic(api, echo_proxy.name, "latency_downstream")
        net.assert_fast(net.round_trip_ms(client, b"fast again"))
        net.assert_fast(net.round_trip_ms(client, b"and stays fast"))


BACKLOG_BYTES = 48 * 1024 * 1024
"""More than every buffer between the two peers holds (socket buffers of both hops, the
proxy's own queue or pipe), so the writer stalls with bytes queued inside the proxy."""


def _stalled(progress: list[int], *, quiet_s: float = 0.3, timeout: float = 20.0) -> bool:
    """True once `progress[0]` has not moved for `quiet_s` (the writer is blocked)."""
    deadline = time.monotonic() + timeout
    last, since = progress[0], time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(0.02)
        if progress[0] != last:
            last, since = progress[0], time.monotonic()
        elif time.monotonic() - since >= quiet_s:
            return True
    return False


def test_toxic_added_while_upstream_is_full_keeps_every_byte_in_order(
    api: httpx.Client, upstream_factory: Callable[[Behaviour], Upstream]
) -> None:
    """The upstream reads nothing until a toxic was added to the stuck stream, then gets
    every byte in order; after the toxic is removed more bytes follow, also intact."""
    gate = threading.Event()
    upstream = upstream_factory(gated_sink(gate))
    proxy = admin.create_proxy(api, upstream.address)
    payload, after = os.urandom(BACKLOG_BYTES), os.urandom(1024 * 1024)
    progress = [0]
    with net.connect(admin.port_of(proxy["listen"]), timeout=60.0) as client:
        def write() -> None:
            view = memoryview(payload)
            for offset in range(0, len(payload), 65536):
                client.sendall(view[offset:offset + 65536])
                progress[0] = offset + 65536

        writer = threading.Thread(target=write, daemon=True)
        writer.start()
        assert _stalled(progress), "the writer never blocked"
        assert progress[0] < len(payload), "no back-pressure: everything was written"
        # Go's API call blocks while a link is stuck in a write (upstream issues #159, #558),
        # so the upstream starts reading shortly after the call began, not after it returned.
        opener = threading.Timer(0.5, gate.set)
        opener.start()
        admin.add_toxic(api, proxy["name"], "latency", stream="upstream",
                        attributes={"latency": 1})
        opener.join()
        writer.join(60)
        conn = upstream.wait_for_connections(1)[0]
        assert net.wait_until(lambda: len(conn.received) >= len(payload), timeout=60.0), (
            f"upstream got {len(conn.received)} of {len(payload)} bytes")
        admin.remove_toxic(api, proxy["name"], "latency_upstream")
        client.sendall(after)
        expected = payload + after
        assert net.wait_until(lambda: len(conn.received) >= len(expected), timeout=30.0)
    assert bytes(conn.received) == expected, "bytes were lost, reordered or corrupted"


def test_toxic_added_while_the_client_is_full_keeps_every_byte_in_order(
    api: httpx.Client, upstream_factory: Callable[[Behaviour], Upstream]
) -> None:
    """The client reads nothing until a toxic was added to the stuck downstream, then reads
    every byte the upstream sent, in order; after removal the stream stays intact."""
    payload, after = os.urandom(BACKLOG_BYTES), os.urandom(1024 * 1024)
    progress = [0]
    more = threading.Event()

    def tracked_source(conn: UpstreamConnection) -> None:
        view = memoryview(payload)
        for offset in range(0, len(payload), 65536):
            conn.sock.sendall(view[offset:offset + 65536])
            progress[0] = offset + 65536
        if more.wait(60):
            conn.sock.sendall(after)
        conn.read_until_eof()

    upstream = upstream_factory(tracked_source)
    proxy = admin.create_proxy(api, upstream.address)
    with net.connect(admin.port_of(proxy["listen"]), timeout=60.0) as client:
        assert _stalled(progress), "the source never blocked"
        assert progress[0] < len(payload), "no back-pressure: everything was sent"
        chunks: list[bytes] = []  # read from 0.5 s on: Go's API call waits for a stuck link
        reader = threading.Timer(0.5, lambda: chunks.append(
            net.recv_exactly(client, len(payload), timeout=60.0)))
        reader.start()
        admin.add_toxic(api, proxy["name"], "latency", stream="downstream",
                        attributes={"latency": 1})
        reader.join(60)
        assert chunks, "the client did not receive the whole payload"
        received = chunks[0]
        admin.remove_toxic(api, proxy["name"], "latency_downstream")
        more.set()
        received += net.recv_exactly(client, len(after), timeout=30.0)
        upstream.wait_for_connections(1)
    assert received == payload + after, "bytes were lost, reordered or corrupted"


def test_toxic_added_and_removed_while_the_client_is_full_keeps_every_byte_in_order(
    api: httpx.Client, upstream_factory: Callable[[Behaviour], Upstream]
) -> None:
    """Both changes land while the client reads nothing, so the bytes that went through the
    chain are still queued for the client when the stream is toxic-free again (the embedded
    server must deliver them before it hands the stream back to its zero-copy path)."""
    payload = os.urandom(BACKLOG_BYTES)
    progress = [0]

    def tracked_source(conn: UpstreamConnection) -> None:
        view = memoryview(payload)
        for offset in range(0, len(payload), 65536):
            conn.sock.sendall(view[offset:offset + 65536])
            progress[0] = offset + 65536
        conn.read_until_eof()

    upstream = upstream_factory(tracked_source)
    proxy = admin.create_proxy(api, upstream.address)
    with net.connect(admin.port_of(proxy["listen"]), timeout=60.0) as client:
        assert _stalled(progress), "the source never blocked"
        chunks: list[bytes] = []  # read from 0.5 s on: Go's API call waits for a stuck link
        reader = threading.Timer(0.5, lambda: chunks.append(
            net.recv_exactly(client, len(payload), timeout=60.0)))
        reader.start()
        admin.add_toxic(api, proxy["name"], "latency", stream="downstream",
                        attributes={"latency": 1})
        admin.remove_toxic(api, proxy["name"], "latency_downstream")
        reader.join(60)
        assert chunks, "the client did not receive the whole payload"
        client.sendall(b"still open")
        conn = upstream.wait_for_connections(1)[0]
        assert net.wait_until(lambda: bytes(conn.received) == b"still open", timeout=5.0)
    assert chunks[0] == payload, "bytes were lost, reordered or corrupted"


def test_toxic_removed_while_its_output_waits_for_a_slow_client_keeps_the_order(
    api: httpx.Client, upstream_factory: Callable[[Behaviour], Upstream]
) -> None:
    """A small receive window keeps what the toxic already forwarded queued for the client
    when the toxic is removed; bytes sent afterwards must not overtake it (on the embedded
    server they may only take the zero-copy path once that queue has drained)."""
    first, second = os.urandom(200 * 1024), os.urandom(2 * 1024 * 1024)
    more = threading.Event()

    def two_parts(conn: UpstreamConnection) -> None:
        conn.sock.sendall(first)
        if more.wait(30):
            conn.sock.sendall(second)
        conn.read_until_eof()

    upstream = upstream_factory(two_parts)
    proxy = admin.create_proxy(api, upstream.address)
    admin.add_toxic(api, proxy["name"], "latency", stream="downstream", attributes={"latency": 0})
    client = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # before connect: tiny window
    client.settimeout(30.0)
    with client:
        client.connect(("127.0.0.1", admin.port_of(proxy["listen"])))
        upstream.wait_for_connections(1)
        time.sleep(0.3)  # `first` crosses the toxic and queues for the non-reading client
        admin.remove_toxic(api, proxy["name"], "latency_downstream")
        more.set()
        received = net.recv_exactly(client, len(first) + len(second), timeout=30.0)
    assert received == first + second, "bytes were lost, reordered or corrupted"
