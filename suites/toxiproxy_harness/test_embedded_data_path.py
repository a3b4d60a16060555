"""Data-path checks of the embedded server kept from the early development tests because the
conformance suite (suites/toxiproxy) does not make them:

* a 1 MiB echo written and read at the same time (both directions under back-pressure;
  the conformance echo is 64 KiB, other big payloads flow one way);
* no byte lost or reordered while a *slicer* (a chunk-splitting toxic) comes and goes
  (the conformance churn test only toggles latency);
* with a seed, a proxy deleted and re-created under the same name replays the same
  decisions on the same server (the conformance suite compares two servers);
* toxic-free streams really take the splice(2) path, and its pipes and descriptors
  follow live toxic changes and are released at close (seen in /proc/<pid>/fd).
"""
from __future__ import annotations

import os
import socket
import struct
import threading
import time
from pathlib import Path

import httpx
import pytest

from chaos.toxiproxy.runner import start_subprocess
from suites.toxiproxy import admin, net
from suites.toxiproxy.upstreams import Proxied, Upstream


def _read_until_eof(sock: socket.socket, into: bytearray) -> None:
    """Append everything ``sock`` receives to ``into`` as it arrives (so progress is visible)."""
    while chunk := sock.recv(65536):
        into.extend(chunk)


def test_one_mebibyte_echo_written_and_read_at_once(echo_proxy: Proxied) -> None:
    payload = bytes(range(256)) * 4096
    with net.connect(echo_proxy.port, timeout=15.0) as client:
        received = bytearray()
        reader = threading.Thread(target=_read_until_eof, args=(client, received), daemon=True)
        reader.start()
        client.sendall(payload)
        assert net.wait_until(lambda: len(received) >= len(payload), timeout=15.0), (
            f"echoed {len(received)} of {len(payload)} bytes")
        client.shutdown(socket.SHUT_WR)
        reader.join(15)
    assert bytes(received) == payload


class ToxicChurn(threading.Thread):
    """Adds and removes a latency and a slicer toxic in a loop until stopped; counts cycles."""

    def __init__(self, api: httpx.Client, proxy: str) -> None:
        super().__init__(daemon=True)
        self.api, self.proxy = api, proxy
        self.cycles = 0
        self.error: AssertionError | None = None
        self.stopped = threading.Event()

    def run(self) -> None:
        try:
            self._churn()
        except AssertionError as exc:  # reported by the test, not lost in this thread
            self.error = exc

    def _churn(self) -> None:
        while not self.stopped.is_set():
            admin.add_toxic(self.api, self.proxy, "latency", name="lag", stream="upstream",
                            attributes={"latency": 1})
            admin.add_toxic(self.api, self.proxy, "slicer", name="cut",
                            attributes={"average_size": 7, "size_variation": 3})
            admin.remove_toxic(self.api, self.proxy, "lag")
            admin.remove_toxic(self.api, self.proxy, "cut")
            self.cycles += 1


def _records(first: int, count: int) -> bytes:
    return b"".join(struct.pack(">I", index) for index in range(first, first + count))


def test_no_byte_lost_while_a_slicer_and_latency_come_and_go(
    api: httpx.Client, echo_proxy: Proxied
) -> None:
    """Numbered records are written until the toxics changed at least 5 times mid-stream."""
    sent = bytearray()
    churn = ToxicChurn(api, echo_proxy.name)
    with net.connect(echo_proxy.port, timeout=15.0) as client:
        received = bytearray()
        reader = threading.Thread(target=_read_until_eof, args=(client, received), daemon=True)
        reader.start()
        churn.start()
        while churn.cycles < 5 and churn.error is None and len(sent) < 4_000_000:
            chunk = _records(len(sent) // 4, 100)
            client.sendall(chunk)
            sent.extend(chunk)
            time.sleep(0.002)
        churn.stopped.set()
        churn.join(15)
        assert net.wait_until(lambda: len(received) >= len(sent), timeout=15.0)
        client.shutdown(socket.SHUT_WR)
        reader.join(15)
    assert churn.error is None, f"toxic churn failed: {churn.error}"
    assert churn.cycles >= 5, f"only {churn.cycles} add/remove cycles ran during the writes"
    assert bytes(received) == bytes(sent), "bytes were lost, corrupted or reordered"


def _cut_pattern(api: httpx.Client, upstream: Upstream, connections: int) -> list[bool]:
    """Create proxy "replayed" with a 50% cut; True for each connection the toxic closed."""
    proxy = admin.create_proxy(api, upstream.address, name="replayed")
    admin.add_toxic(api, "replayed", "limit_data", toxicity=0.5, attributes={"bytes": 0})
    port = admin.port_of(proxy["listen"])
    pattern = []
    for _ in range(connections):
        with net.connect(port) as client:
            client.sendall(b"ping")
            try:
                first = client.recv(4)
            except ConnectionResetError:
                first = b""
        assert b"ping".startswith(first), f"neither echo nor cut: {first!r}"
        pattern.append(first == b"")
    assert api.delete("/proxies/replayed").status_code == 204
    return pattern


@pytest.mark.embedded_only
def test_re_created_proxy_replays_the_same_seeded_decisions(
    api: httpx.Client, echo_upstream: Upstream
) -> None:
    first = _cut_pattern(api, echo_upstream, 16)
    second = _cut_pattern(api, echo_upstream, 16)
    assert any(first) and not all(first), f"toxicity 0.5 looked constant: {first}"
    assert first == second


def _descriptors(pid: int) -> dict[str, int]:
    """How many pipe and socket descriptors process `pid` holds (from /proc/<pid>/fd)."""
    counts = {"pipe": 0, "socket": 0}
    fd_dir = Path(f"/proc/{pid}/fd")
    for entry in fd_dir.iterdir():
        try:
            target = os.readlink(entry)
        except OSError:
            continue  # closed while listing
        for kind in counts:
            if target.startswith(f"{kind}:"):
                counts[kind] += 1
    return counts


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir() or not hasattr(os, "splice"),
                    reason="needs Linux splice(2) and /proc")
def test_streams_without_toxics_are_spliced_and_the_pipes_follow_the_toxics(
    tmp_path: Path, echo_upstream: Upstream
) -> None:
    """Observable from outside the server process: a toxic-free connection holds one splice
    pipe per stream (2 descriptors each); a toxic on a stream takes that stream off the
    pipe, removing it brings the pipe back on the next bytes, and closing the connection
    releases every pipe and every duplicated socket descriptor."""
    with start_subprocess(host="127.0.0.1", port=0, log_path=tmp_path / "server.log") as server, \
            httpx.Client(base_url=server.url, timeout=10.0) as api:
        assert server.pid is not None
        pid = server.pid
        proxy = admin.create_proxy(api, echo_upstream.address, name="spliced")
        port = admin.port_of(proxy["listen"])
        idle = _descriptors(pid)
        with net.connect(port) as client:
            net.round_trip_ms(client, b"first")
            assert net.wait_until(lambda: _descriptors(pid)["pipe"] == idle["pipe"] + 4,
                                  timeout=5.0), _descriptors(pid)
            admin.add_toxic(api, "spliced", "latency", stream="downstream",
                            attributes={"latency": 100})
            assert _descriptors(pid)["pipe"] == idle["pipe"] + 2
            net.assert_delay(net.round_trip_ms(client, b"through the toxic"), 100)
            admin.add_toxic(api, "spliced", "noop", stream="upstream")
            assert _descriptors(pid)["pipe"] == idle["pipe"]
            admin.remove_toxic(api, "spliced", "latency_downstream")
            admin.remove_toxic(api, "spliced", "noop_upstream")
            net.assert_fast(net.round_trip_ms(client, b"spliced again"))
            assert net.wait_until(lambda: _descriptors(pid)["pipe"] == idle["pipe"] + 4,
                                  timeout=5.0), _descriptors(pid)
            busy = _descriptors(pid)
        assert busy["socket"] == idle["socket"] + 4  # client + upstream socket, each duplicated
        assert net.wait_until(lambda: _descriptors(pid) == idle, timeout=5.0), (
            f"descriptors left after close: {_descriptors(pid)} (idle: {idle})")
