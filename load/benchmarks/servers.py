"""What the benchmark scripts share: a server process of their own that is always stopped,
a free loopback port for it, and the argument type of their counts."""
from __future__ import annotations

import argparse
import contextlib
import socket
import subprocess
import time
from collections.abc import Iterator

import httpx


def positive_int(text: str) -> int:
    """An argparse type: a whole number of at least 1."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_up(url: str, process: subprocess.Popen[bytes], timeout_s: float = 30) -> None:
    """Until `url` answers at all; SystemExit if the process exits or the time runs out."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{url}: the server exited with {process.returncode}")
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise SystemExit(f"no answer from {url} within {timeout_s:.0f} s")


@contextlib.contextmanager
def serving(command: list[str], ready_url: str) -> Iterator[subprocess.Popen[bytes]]:
    """A server process started from `command` that answers `ready_url`; stopped on exit
    (terminated, killed after 10 s), whatever happens inside."""
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until_up(ready_url, child)
        yield child
    finally:
        child.terminate()
        try:
            child.wait(10)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
