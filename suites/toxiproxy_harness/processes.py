"""Launch ``crashcart toxiproxy`` as a real child process and read what it prints.

Why: the console command is the surface operators and launchers use; its flags, first
stdout line, exit statuses and signal handling are only observable from outside the process.
"""
from __future__ import annotations

import os
import selectors
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

CRASHCART = str(Path(sys.executable).with_name("crashcart"))
"""The installed console script of this virtualenv."""
READY_PREFIX = "Toxiproxy API listening on "
START_TIMEOUT_S = 15.0


@dataclass(slots=True)
class Finished:
    """A command that ran to completion."""

    status: int
    stdout: str
    stderr: str


def run_to_end(argv: list[str], *, timeout: float = START_TIMEOUT_S) -> Finished:
    """Run a command that is expected to exit by itself (e.g. ``-version``, a usage error)."""
    done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
    return Finished(done.returncode, done.stdout, done.stderr)


class Launched:
    """A running server process in its own session; ``ready_line`` is its first stdout line."""

    def __init__(self, argv: list[str], stderr_path: Path) -> None:
        self.stderr_path = stderr_path
        with stderr_path.open("wb") as stderr:
            self.process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=stderr,
                                            start_new_session=True)
        assert self.process.stdout is not None
        self.ready_line = _readline(self.process, START_TIMEOUT_S)
        if not self.ready_line.startswith(READY_PREFIX):
            self.kill()
            raise AssertionError(f"no ready line: {self.ready_line!r}; stderr: {self.stderr()!r}")

    @property
    def url(self) -> str:
        return self.ready_line[len(READY_PREFIX):]

    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace")

    def terminate(self, *, timeout: float = 10.0) -> int:
        """SIGTERM the server (only it, not the group) and return its exit status."""
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout)

    def kill(self) -> None:
        """Last-resort cleanup: SIGKILL the whole process group if anything is left."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(5)
        if self.process.stdout is not None:
            self.process.stdout.close()


def _readline(process: subprocess.Popen[bytes], timeout: float) -> str:
    """One stdout line, or '' if the process exits or stays silent for ``timeout`` seconds."""
    assert process.stdout is not None
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        if not selector.select(timeout):
            return ""
    return process.stdout.readline().decode(errors="replace").rstrip("\n")
