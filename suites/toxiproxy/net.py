"""Socket-level helpers for the data-path tests: ports, client connections, timed reads.

Why: every data-path assertion is about what a real TCP peer observes (bytes, EOF, RST,
silence, timing), so these helpers return exactly that and never hide a failure mode.
Timing uses `time.monotonic()` throughout.
"""
from __future__ import annotations

import errno
import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

IO_TIMEOUT_S = 5.0
"""Upper bound for any single socket wait; a test that needs it has already failed."""

SLACK_MS = float(os.environ.get("TOXIPROXY_SUITE_SLACK_MS", "50"))
"""Scheduling slack added to upper timing bounds.

Upstream's Go tests allow +10 ms; this suite runs a Python server and Python clients on a
noisy 2-core box, so upper bounds get +50 ms by default (override with the env variable).
Lower bounds stay strict: a toxic must never release data or close a socket *early*."""

Closure = Literal["eof", "reset"]


def free_port(host: str = "127.0.0.1") -> int:
    """A port that was free a moment ago (bound and released by the kernel)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def wait_until(predicate: Callable[[], bool], *, timeout: float, interval: float = 0.01) -> bool:
    """Poll `predicate` until it is true or the monotonic deadline passes; return the last value."""
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)


def is_listening(port: int, host: str = "127.0.0.1") -> bool:
    """True when a TCP connect to host:port is accepted (ECONNREFUSED means nobody listens)."""
    try:
        with socket.create_connection((host, port), timeout=1.0):
            return True
    except OSError:
        return False


def connect(port: int, host: str = "127.0.0.1", *, timeout: float = IO_TIMEOUT_S) -> socket.socket:
    """A connected client socket whose blocking calls time out after `timeout` seconds."""
    sock = socket.create_connection((host, port), timeout=timeout)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def recv_exactly(sock: socket.socket, size: int, *, timeout: float = IO_TIMEOUT_S) -> bytes:
    """Read exactly `size` bytes; fail loudly on EOF, reset or timeout with what was read."""
    data = bytearray()
    deadline = time.monotonic() + timeout
    while len(data) < size:
        sock.settimeout(max(0.001, deadline - time.monotonic()))
        try:
            chunk = sock.recv(min(65536, size - len(data)))
        except TimeoutError as exc:
            raise AssertionError(f"timed out after {len(data)}/{size} bytes") from exc
        if not chunk:
            raise AssertionError(f"EOF after {len(data)}/{size} bytes")
        data.extend(chunk)
    return bytes(data)


@dataclass(slots=True)
class ReadOutcome:
    """What a reader saw until the peer closed or the wait ended."""

    data: bytes
    closure: Closure | None
    """`eof` (FIN), `reset` (RST) or None when the wait ran out with the socket still open."""
    elapsed_ms: float
    """Milliseconds from the start of the read to the closure (or to the end of the wait)."""
    recv_sizes: list[int]
    """Size of every non-empty recv(), for assertions about how data arrived."""


def read_until_closed(
    sock: socket.socket, *, timeout: float = IO_TIMEOUT_S, started: float | None = None
) -> ReadOutcome:
    """Read everything until EOF/RST or `timeout`; `started` (monotonic) sets the time origin."""
    origin = time.monotonic() if started is None else started
    deadline = time.monotonic() + timeout
    data = bytearray()
    sizes: list[int] = []
    closure: Closure | None = None
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        sock.settimeout(remaining)
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            break
        except ConnectionResetError:
            closure = "reset"
            break
        except OSError as exc:
            if exc.errno == errno.ECONNRESET:
                closure = "reset"
                break
            raise
        if not chunk:
            closure = "eof"
            break
        sizes.append(len(chunk))
        data.extend(chunk)
    elapsed = (time.monotonic() - origin) * 1000
    return ReadOutcome(bytes(data), closure, elapsed, sizes)


def assert_silent(sock: socket.socket, *, for_seconds: float) -> None:
    """Assert that nothing arrives and the socket stays open for `for_seconds`."""
    outcome = read_until_closed(sock, timeout=for_seconds)
    assert outcome.data == b"", f"expected silence, got {outcome.data[:80]!r}"
    assert outcome.closure is None, f"expected an open socket, got {outcome.closure}"


def round_trip_ms(sock: socket.socket, message: bytes) -> float:
    """Send `message` to an echo path and return the milliseconds until all of it is back."""
    started = time.monotonic()
    sock.sendall(message)
    echoed = recv_exactly(sock, len(message))
    elapsed = (time.monotonic() - started) * 1000
    assert echoed == message
    return elapsed



def assert_delay(elapsed_ms: float, low_ms: float, high_ms: float | None = None) -> None:
    """Assert low <= elapsed <= high + SLACK_MS (high defaults to low): never early."""
    high = (low_ms if high_ms is None else high_ms) + SLACK_MS
    assert low_ms <= elapsed_ms <= high, (
        f"{elapsed_ms:.1f} ms not in [{low_ms}, {high:.0f}] (includes {SLACK_MS:.0f} ms slack)"
    )


def assert_fast(elapsed_ms: float) -> None:
    """Assert an untoxic round trip stayed within the scheduling slack."""
    assert elapsed_ms < SLACK_MS, f"{elapsed_ms:.1f} ms; expected < {SLACK_MS:.0f} ms (no toxic)"
