"""Real TCP upstream servers for the data-path tests (echo, sink, source, paced source).

Why: a proxy is only observable between two real peers. Each upstream runs a thread per
accepted connection and records what that connection received and how it ended, so tests
can assert on both ends of a proxied link (e.g. "removing a timeout closes both sides").
"""
from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from suites.toxiproxy.net import IO_TIMEOUT_S, Closure, wait_until


@dataclass(slots=True)
class UpstreamConnection:
    """One accepted connection as the upstream saw it."""

    sock: socket.socket
    received: bytearray = field(default_factory=bytearray)
    closure: Closure | None = None
    closed: threading.Event = field(default_factory=threading.Event)
    closed_at: float | None = None
    """Monotonic time at which the peer's close (or reset) was seen."""

    def mark_closed(self, closure: Closure) -> None:
        self.closure = self.closure or closure
        self.closed_at = time.monotonic()
        self.closed.set()

    def read_until_eof(self, *, echo: bool = False) -> None:
        """Record (and optionally echo) everything until the peer closes or resets."""
        try:
            while True:
                chunk = self.sock.recv(65536)
                if not chunk:
                    self.mark_closed("eof")
                    return
                self.received.extend(chunk)
                if echo:
                    self.sock.sendall(chunk)
        except OSError:
            self.mark_closed("reset")


Behaviour = Callable[[UpstreamConnection], None]
"""What the upstream does with each accepted connection (runs in its own thread)."""


def echo(conn: UpstreamConnection) -> None:
    """Send every received byte straight back; close when the peer closes."""
    conn.read_until_eof(echo=True)


def sink(*, hold_open: bool = False) -> Behaviour:
    """Swallow bytes; with `hold_open` keep the socket open after the peer's EOF (half-close)."""

    def behaviour(conn: UpstreamConnection) -> None:
        conn.read_until_eof()
        if hold_open:
            return  # the server closes it at teardown
        conn.sock.close()

    return behaviour


def gated_sink(gate: threading.Event) -> Behaviour:
    """Read nothing until `gate` is set, then record everything (back-pressure on demand)."""

    def behaviour(conn: UpstreamConnection) -> None:
        gate.wait(60)
        conn.read_until_eof()

    return behaviour


def source(payload: bytes, *, close_after: bool = False) -> Behaviour:
    """Send `payload` on accept, then either close or keep recording until the peer closes."""

    def behaviour(conn: UpstreamConnection) -> None:
        try:
            conn.sock.sendall(payload)
        except OSError:
            conn.mark_closed("reset")
            return
        if close_after:
            conn.sock.close()
            conn.mark_closed("eof")
            return
        conn.read_until_eof()

    return behaviour


def paced_source(records: list[bytes], *, interval_s: float, sent_at: list[float]) -> Behaviour:
    """Send `records` one every `interval_s` on a fixed schedule, noting each send time."""

    def behaviour(conn: UpstreamConnection) -> None:
        start = time.monotonic()
        for index, record in enumerate(records):
            pause = start + index * interval_s - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            sent_at.append(time.monotonic())
            conn.sock.sendall(record)
        conn.read_until_eof()

    return behaviour


class Upstream:
    """A TCP server on 127.0.0.1:<ephemeral> that runs `behaviour` for every connection."""

    def __init__(self, behaviour: Behaviour) -> None:
        self._behaviour = behaviour
        self._listener = socket.create_server(("127.0.0.1", 0), backlog=128)
        self.port: int = int(self._listener.getsockname()[1])
        self.connections: list[UpstreamConnection] = []
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._running = True
        self._acceptor = threading.Thread(target=self._accept_loop, daemon=True)
        self._acceptor.start()

    @property
    def address(self) -> str:
        """The `upstream` string to give the proxy."""
        return f"127.0.0.1:{self.port}"

    def _accept_loop(self) -> None:
        while self._running:
            try:
                sock, _ = self._listener.accept()
            except OSError:
                return
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            conn = UpstreamConnection(sock)
            with self._lock:
                self.connections.append(conn)
            thread = threading.Thread(target=self._behaviour, args=(conn,), daemon=True)
            self._threads.append(thread)
            thread.start()

    def wait_for_connections(
        self, count: int, *, timeout: float = IO_TIMEOUT_S
    ) -> list[UpstreamConnection]:
        """Wait until `count` connections were accepted; return them (fails on timeout)."""
        assert wait_until(lambda: len(self.connections) >= count, timeout=timeout), (
            f"upstream accepted {len(self.connections)} connections, expected {count}"
        )
        with self._lock:
            return list(self.connections)

    def close(self) -> None:
        """Stop accepting and close every connection (unblocks the per-connection threads)."""
        self._running = False
        try:
            self._listener.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept() on Linux
        except OSError:
            pass
        self._listener.close()
        with self._lock:
            conns = list(self.connections)
        for conn in conns:
            try:
                conn.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            conn.sock.close()
        for thread in [self._acceptor, *self._threads]:
            thread.join(timeout=2.0)


@dataclass(slots=True, frozen=True)
class Proxied:
    """A proxy in front of an upstream: its name, the port clients connect to, the upstream."""

    name: str
    port: int
    upstream: Upstream

