"""One layer of ``crashcart run``: a pytest subprocess writing into the shared results.

Why a subprocess per layer: layers load different plugins (Pact, Schemathesis, Locust) and
may hold global state; a crash or hang in one stays in one; the orchestrator can interrupt
it (SIGINT to its process group, pytest then tears its fixtures down and writes what it
has) and still go on to the report.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from chaos.run.layers import Layer
from chaos.run.progress import ENV_FILE, Counts
from chaos.topology import REPO_ROOT

INTERRUPT_GRACE_S = 60.0
"""After SIGINT, how long pytest gets to tear down (faults undone, platforms stopped)."""
TERM_GRACE_S = 10.0

PYTEST_EXIT = {0: "passed", 1: "failed", 2: "interrupted", 3: "internal error",
               4: "usage error", 5: "no tests collected"}


@dataclass(slots=True)
class LayerOutcome:
    """What happened to one layer."""

    layer: Layer
    status: str
    """passed | failed | empty | absent | interrupted | error | not run"""
    exit_code: int | None = None
    counts: Counts | None = None
    seconds: float = 0.0
    log: Path | None = None
    note: str = ""
    failures: list[str] = field(default_factory=list)
    """pytest's short summary lines (``FAILED ...``/``ERROR ...``) from the layer's log."""

    @property
    def ok(self) -> bool:
        return self.status in ("passed", "empty", "absent")


def pytest_command(paths: list[Path], *, results_dir: Path, marker: str | None,
                   seed: int, extra: list[str] | None = None) -> list[str]:
    command = [sys.executable, "-m", "pytest", *map(str, paths),
               f"--alluredir={results_dir}", "-p", "chaos.run.progress",
               f"--hypothesis-seed={seed}", "-q", "-rfE", "--color=no"]
    if marker:
        command += ["-m", marker]
    return command + list(extra or [])


@dataclass(slots=True)
class LayerProcess:
    """A running layer; ``interrupt`` is safe to call from a signal handler."""

    proc: subprocess.Popen[bytes]
    interrupted: bool = False
    killed: bool = False

    def interrupt(self) -> None:
        """First call: SIGINT to the layer's group (pytest cleans up). Second: SIGKILL."""
        if self.proc.poll() is not None:
            return
        sig = signal.SIGKILL if self.interrupted else signal.SIGINT
        self.killed = self.killed or sig == signal.SIGKILL
        self.interrupted = True
        try:
            os.killpg(self.proc.pid, sig)
        except ProcessLookupError:
            pass

    def wait_after_interrupt(self) -> int:
        """Grace for pytest's teardown, then TERM, then KILL; returns the exit code."""
        for sig, grace in ((None, INTERRUPT_GRACE_S), (signal.SIGTERM, TERM_GRACE_S),
                           (signal.SIGKILL, 5.0)):
            if sig is not None:
                try:
                    os.killpg(self.proc.pid, sig)
                except ProcessLookupError:
                    pass
            try:
                return self.proc.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                continue
        return self.proc.wait()


def run_layer(layer: Layer, *, results_dir: Path, work_dir: Path, profile: str, seed: int,
              env: Mapping[str, str], on_start: Callable[[LayerProcess], None],
              on_tick: Callable[[Counts], None], extra_args: list[str] | None = None,
              tick_s: float = 0.5) -> LayerOutcome:
    """Run the layer to its end (or until interrupted), reporting counts every tick."""
    paths = layer.present_paths()
    if not paths:
        return LayerOutcome(layer, "absent", note="no test files at " + ", ".join(layer.paths))
    work_dir.mkdir(parents=True, exist_ok=True)
    progress_file = work_dir / f"{layer.name}.progress.jsonl"
    progress_file.unlink(missing_ok=True)
    log = work_dir / f"{layer.name}.log"
    counts = Counts(progress_file)
    command = pytest_command(paths, results_dir=results_dir,
                             marker=layer.marker_expression(profile), seed=seed,
                             extra=extra_args)
    child_env = {**env, ENV_FILE: str(progress_file)}
    started = time.monotonic()
    with open(log, "wb") as out:
        out.write(("$ " + " ".join(command) + "\n").encode())
        out.flush()
        proc = subprocess.Popen(command, cwd=REPO_ROOT, env=child_env, stdin=subprocess.DEVNULL,
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    running = LayerProcess(proc)
    on_start(running)
    while True:
        try:
            code = proc.wait(timeout=tick_s)
            break
        except subprocess.TimeoutExpired:
            on_tick(counts.refresh())
            if running.interrupted:
                code = running.wait_after_interrupt()
                break
    on_tick(counts.refresh())
    _kill_group_leftovers(proc.pid)
    outcome = LayerOutcome(layer, _status(code, running), exit_code=code, counts=counts,
                           seconds=time.monotonic() - started, log=log,
                           failures=_short_summary(log))
    if outcome.status == "error":
        outcome.note = f"pytest exited {code} ({PYTEST_EXIT.get(code, 'unknown')}); see {log}"
    return outcome


def _status(code: int, running: LayerProcess) -> str:
    if running.interrupted:
        return "interrupted"
    return {0: "passed", 1: "failed", 5: "empty"}.get(code, "error")


def _kill_group_leftovers(pgid: int) -> None:
    """Whatever the layer left in its process group (pytest is gone) is ended."""
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _short_summary(log: Path, limit: int = 50) -> list[str]:
    try:
        lines = log.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return []
    found = [line for line in lines if line.startswith(("FAILED ", "ERROR "))]
    return found[:limit]
