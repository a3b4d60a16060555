"""Start the embedded server for tests and tools: in a thread, or as a child process.

Both return a :class:`RunningServer` that knows its URL and always cleans up
(``stop()`` or ``with``). Port 0 picks a free port; the real one is in ``.port``.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

from .cli import READY_PREFIX
from .select import ServerChoice
from .server import ServerOptions, StartupError, run

_START_TIMEOUT_SECONDS = 20.0


@dataclass
class RunningServer:
    """A started server. ``url`` is e.g. ``http://127.0.0.1:8474``; ``pid`` is set for subprocesses."""

    url: str
    pid: int | None = None
    _stopper: Any = field(default=None, repr=False)

    @property
    def host(self) -> str:
        return urlsplit(self.url).hostname or "127.0.0.1"

    @property
    def port(self) -> int:
        return urlsplit(self.url).port or 8474

    def stop(self) -> None:
        if self._stopper is not None:
            stopper, self._stopper = self._stopper, None
            stopper()

    def __enter__(self) -> RunningServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_in_thread(
    host: str = "127.0.0.1", port: int = 8474, *, seed: int | None = None, config: str | None = None,
    proxy_metrics: bool = False, runtime_metrics: bool = False,
) -> RunningServer:
    """Run the server on its own event loop in a daemon thread; returns once it listens."""
    options = ServerOptions(host=host, port=port, seed=seed, config=config,
                            proxy_metrics=proxy_metrics, runtime_metrics=runtime_metrics)
    ready = threading.Event()
    state: dict[str, Any] = {}

    def on_ready(url: str) -> None:
        state["url"] = url
        ready.set()

    def body() -> None:
        loop = asyncio.new_event_loop()
        state["loop"] = loop
        stop = asyncio.Event()
        state["stop"] = stop
        try:
            loop.run_until_complete(run(options, stop, on_ready))
        except BaseException as exc:  # reported to the starting thread
            state["error"] = exc
        finally:
            loop.close()
            ready.set()

    thread = threading.Thread(target=body, name=f"toxiproxy-{port}", daemon=True)
    thread.start()
    if not ready.wait(_START_TIMEOUT_SECONDS) or "url" not in state:
        raise StartupError(str(state.get("error", "embedded server did not start in time")))

    def stopper() -> None:
        loop: asyncio.AbstractEventLoop = state["loop"]
        if not loop.is_closed():
            loop.call_soon_threadsafe(state["stop"].set)
        thread.join(10)

    return RunningServer(url=state["url"], _stopper=stopper)


def start_subprocess(
    host: str = "127.0.0.1", port: int = 8474, *, seed: int | None = None, config: str | None = None,
    log_path: str | os.PathLike[str] | None = None, extra_args: list[str] | None = None,
) -> RunningServer:
    """Run ``python -m chaos.toxiproxy`` in its own process group; returns once ``/version`` answers."""
    command = [sys.executable, "-m", "chaos.toxiproxy", "-host", host, "-port", str(port)]
    if seed is not None:
        command += ["-seed", str(seed)]
    if config is not None:
        command += ["-config", str(config)]
    command += extra_args or []
    log_file: IO[bytes] | int = open(log_path, "ab") if log_path else subprocess.DEVNULL  # noqa: SIM115
    try:
        process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=log_file, start_new_session=True,
            cwd=Path(__file__).resolve().parents[2],
        )
    finally:
        if not isinstance(log_file, int):
            log_file.close()

    def stopper() -> None:
        _terminate(process)

    try:
        url = _read_ready_line(process)
        _wait_for_version(url, process)
    except BaseException:
        stopper()
        raise
    return RunningServer(url=url, pid=process.pid, _stopper=stopper)


def start_binary(executable: str, host: str = "127.0.0.1", port: int | None = None, *,
                 extra_args: list[str] | None = None) -> RunningServer:
    """Run another Toxiproxy-compatible server binary (e.g. the real ``toxiproxy-server``)
    with the same flags, in its own process group; returns once ``/version`` answers.

    Such a server prints no ready line, so a free port is picked here when ``port`` is None
    (a small race with other processes taking it, acceptable for tools and benchmarks)."""
    if port is None:
        with socket.socket() as probe:
            probe.bind((host, 0))
            port = int(probe.getsockname()[1])
    command = ServerChoice(kind="binary", url="", executable=executable).command(
        host, port, *(extra_args or []))
    assert command is not None
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)
    url = f"http://{host}:{port}"
    try:
        _wait_for_version(url, process)
    except BaseException:
        _terminate(process)
        raise
    return RunningServer(url=url, pid=process.pid, _stopper=lambda: _terminate(process))


def _read_ready_line(process: subprocess.Popen[bytes]) -> str:
    assert process.stdout is not None
    line = process.stdout.readline().decode(errors="replace").strip()
    if not line.startswith(READY_PREFIX):
        process.wait(5)
        raise StartupError(f"toxiproxy subprocess exited ({process.returncode}) before listening: {line!r}")
    return line[len(READY_PREFIX):]


def _wait_for_version(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + _START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise StartupError(f"toxiproxy subprocess exited with {process.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/version", timeout=1) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            time.sleep(0.05)
    raise StartupError(f"toxiproxy at {url} did not answer /version in time")


def _terminate(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(5)
        except ProcessLookupError:
            pass
    if process.stdout is not None:
        process.stdout.close()
