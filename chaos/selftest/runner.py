"""Run the default test run's layers against a copy with one defect planted.

Why in order of cost with ``-x``: the question is "does the harness catch this defect, and
where first", so a defect stops at the first failing test of the first layer that fails
(``--all-layers`` runs every layer for the full matrix). Layers come from
``chaos.run.layers`` (same paths, same ``-m`` of the default profile); the ones that never
exercise platform behaviour (toxiproxy: the fault injector only) or need fixed ports
(runtime, report) are left out.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

from chaos.run import layers
from chaos.selftest.catalogue import Defect
from chaos.selftest.workspace import (
    REFERENCE_ENV,
    Workspace,
    drop_instance_databases,
    ensure_vhost,
)

SELFTEST_LAYERS: tuple[str, ...] = ("unit", "contracts", "platform", "security", "runtime",
                                    "fuzz", "chaos", "load")
"""Roughly cheapest first: the order a defect meets them."""
LAYER_PATHS: dict[str, tuple[str, ...]] = {
    "runtime": ("suites/runtime/test_gateway_platform.py",),
}
"""Layers the self-test runs only in part: of runtime, the module that tests the gateway on
the session's platform; the rest starts instances on fixed port offsets (3600, 4000, 4100,
5500) shared with everyone's default run, and tests up/down/preflight, not behaviour."""
EXCLUDED_LAYERS: dict[str, str] = {
    "toxiproxy": "tests the fault injector, never the platform",
    "report": "the orchestrator and the report, not the platform (full profile only)",
    "selftest": "checks the catalogue's patches against the unpatched tree (a patched copy "
                "would fail it for the patch, not for a harness catch)",
}
LAYER_TIMEOUT_S = 2400.0
TEST_TIMEOUT_S: dict[str, int] = {"unit": 60, "fuzz": 600, "chaos": 600, "load": 600}
"""pytest-timeout per test: a hang is a detection, so it must not cost the project's 300 s
where the layer's tests take seconds; heavier layers get more than the default on a busy
machine."""
DEFAULT_TEST_TIMEOUT_S = 300


@dataclass(slots=True)
class LayerResult:
    layer: str
    status: str
    """passed | caught | error | interrupted | skipped"""
    seconds: float
    failures: list[str] = field(default_factory=list)
    log: str = ""
    not_confirmed: list[str] = field(default_factory=list)
    """Tests that failed here but also on the unpatched reference copy (not detections)."""


@dataclass(slots=True)
class DefectResult:
    defect: str
    category: str
    caught_by: str | None = None
    failing_test: str | None = None
    seconds_to_detection: float | None = None
    """From the start of the copy to the catching layer's end, reference re-runs excluded."""
    seconds: float = 0.0
    layers: list[LayerResult] = field(default_factory=list)
    note: str = ""

    @property
    def caught(self) -> bool:
        return self.caught_by is not None

    def as_json(self) -> dict[str, object]:
        return asdict(self)


Progress = Callable[[str], None]


MAX_UNCONFIRMED = 3
"""Failures that also fail on the reference copy before a layer is given up as "error"."""


def selftest_layer(name: str) -> layers.Layer:
    """The registry's layer, narrowed to ``LAYER_PATHS`` where the self-test runs a part."""
    layer = layers.by_name(name)
    paths = LAYER_PATHS.get(name)
    return dataclasses.replace(layer, paths=paths) if paths else layer


def pytest_base(layer: layers.Layer) -> list[str]:
    timeout = TEST_TIMEOUT_S.get(layer.name, DEFAULT_TEST_TIMEOUT_S)
    return [sys.executable, "-m", "pytest", "-q", "-rfE", "--color=no", "-p",
            "no:cacheprovider", f"--timeout={timeout}"]


def layer_command(layer: layers.Layer, root: Path, deselect: list[str]) -> list[str] | None:
    paths = [str(p) for p in layer.present_paths(root)]
    if not paths:
        return None
    command = [*pytest_base(layer), *paths, "-x"]
    command += [f"--deselect={node}" for node in deselect]
    marker = layer.marker_expression(layers.DEFAULT)
    return command + (["-m", marker] if marker else [])


def node_id(summary_line: str) -> str:
    """``FAILED path::test[param] - message`` -> ``path::test[param]``."""
    text = summary_line.split(" ", 1)[1] if " " in summary_line else summary_line
    return text.split(" - ", 1)[0].strip()


class Runner:
    """Runs defects one after the other; ``interrupt`` (from a signal) stops the current one."""

    def __init__(self, layer_names: tuple[str, ...], *, all_layers: bool, log_dir: Path,
                 progress: Progress, revision: str | None = "HEAD",
                 confirm: bool = True, expected_first: bool = True) -> None:
        self.layers = [selftest_layer(name) for name in layer_names]
        self.all_layers = all_layers
        self.log_dir = log_dir
        self.progress = progress
        self.revision = revision
        self.confirm = confirm
        self.expected_first = expected_first
        self.confirm_seconds = 0.0
        """Time spent re-running failures on the reference copy (not time to detection)."""
        self._current: subprocess.Popen[bytes] | None = None
        self._reference: Workspace | None = None
        self.interrupted = False

    def order(self, defect: Defect | None) -> list[layers.Layer]:
        """The layers a defect meets: in cost order, or (``expected_first``) the layers the
        catalogue expects to catch it first, then the others in cost order."""
        if defect is None or not self.expected_first:
            return list(self.layers)
        wanted = [name for name in defect.expected if name in {x.name for x in self.layers}]
        first = [x for name in wanted for x in self.layers if x.name == name]
        return first + [x for x in self.layers if x.name not in wanted]

    def close(self) -> None:
        """Stop and remove the reference copy (if one was started)."""
        if self._reference is not None:
            self.progress("[reference] cleaning up")
            self._reference.close()
            self._reference = None

    def _reference_copy(self) -> Workspace:
        if self._reference is None:
            ws = Workspace.create(None, revision=self.revision, instance=REFERENCE_ENV,
                                  label="reference")
            ensure_vhost(ws.env["CRASHCART_RABBITMQ_VHOST"])
            drop_instance_databases(ws.env)
            self._reference = ws
            self.progress(f"[reference] unpatched copy at {ws.root}; platform up")
            boot = ws.up()
            if boot.returncode != 0:
                raise RuntimeError(f"the reference copy did not come up: {boot.stderr[-1500:]}")
        return self._reference

    def confirmed(self, layer: layers.Layer, failure: str, name: str) -> bool:
        """Whether the failing test passes on the unpatched reference copy."""
        if not self.confirm or self.interrupted:
            return True
        began = time.monotonic()
        try:
            return self._confirmed(layer, failure, name)
        finally:
            self.confirm_seconds += time.monotonic() - began

    def _confirmed(self, layer: layers.Layer, failure: str, name: str) -> bool:
        ref = self._reference_copy()
        node = node_id(failure)
        log = self.log_dir / f"{name}.{layer.name}.reference.log"
        with open(log, "wb") as out:
            proc = subprocess.Popen([*pytest_base(layer), node], cwd=ref.root, env=ref.env,
                                    stdout=out, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, start_new_session=True)
            code = self._wait(proc)
        ref.crashcart("heal", timeout=180)
        self.progress(f"[{name}] reference copy: {node} "
                      f"{'passes (detection confirmed)' if code == 0 else 'FAILS too'}")
        return code == 0

    def interrupt(self) -> None:
        self.interrupted = True
        proc = self._current
        if proc is not None and proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGINT)

    def run(self, defect: Defect | None) -> DefectResult:
        """One defect (None: the clean baseline) through the layers."""
        name = defect.id if defect else "baseline"
        result = DefectResult(name, defect.category if defect else "-")
        started = time.monotonic()
        self.confirm_seconds = 0.0
        with self._workspace(defect) as ws:
            self.progress(f"[{name}] copy at {ws.root}")
            up = False
            for layer in self.order(defect):
                if self.interrupted:
                    break
                if layer.needs_platform and not up:
                    self.progress(f"[{name}] platform up")
                    boot = ws.up()
                    if boot.returncode != 0:
                        # Not a detection: a catalogue defect must leave a platform that
                        # runs (an infrastructure failure here is no evidence either way).
                        result.note = ("the patched platform did not come up: "
                                       f"{boot.stderr[-1500:]}")
                        result.seconds = time.monotonic() - started
                        self.progress(f"[{name}] platform did not start: see the result's note")
                        return result
                    up = True
                outcome = self._run_layer(ws, layer, name)
                result.layers.append(outcome)
                if outcome.status == "caught" and not result.caught:
                    result.caught_by = layer.name
                    result.failing_test = outcome.failures[0] if outcome.failures else None
                    result.seconds_to_detection = (time.monotonic() - started
                                                   - self.confirm_seconds)
                    if not self.all_layers and defect is not None:
                        break
        result.seconds = time.monotonic() - started
        if self.interrupted:
            result.note = "interrupted"
        return result

    @contextlib.contextmanager
    def _workspace(self, defect: Defect | None) -> Iterator[Workspace]:
        ws = Workspace.create(defect)
        ensure_vhost(ws.env["CRASHCART_RABBITMQ_VHOST"])
        drop_instance_databases(ws.env)  # every defect starts from fresh databases
        try:
            yield ws
        finally:
            self.progress(f"[{ws.defect.id if ws.defect else 'baseline'}] cleaning up")
            ws.close()

    def _wait(self, proc: subprocess.Popen[bytes]) -> int:
        self._current = proc
        try:
            return proc.wait(timeout=LAYER_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGINT)
            try:
                return proc.wait(timeout=90)
            except subprocess.TimeoutExpired:
                return -9
        finally:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)
            self._current = None

    def _run_layer(self, ws: Workspace, layer: layers.Layer, name: str) -> LayerResult:
        """The layer with -x; a failure that the reference copy shares is deselected and the
        layer resumed, so only failures caused by the defect count."""
        started = time.monotonic()
        unconfirmed: list[str] = []
        result = LayerResult(layer.name, "skipped", 0.0)
        attempt = 0
        while not self.interrupted:
            command = layer_command(layer, ws.root, [node_id(f) for f in unconfirmed])
            if command is None:
                return result
            suffix = f".{attempt}" if attempt else ""
            log = self.log_dir / f"{name}.{layer.name}{suffix}.log"
            self.progress(f"[{name}] layer {layer.name} ...")
            with open(log, "wb") as out:
                proc = subprocess.Popen(command, cwd=ws.root, env=ws.env, stdout=out,
                                        stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                        start_new_session=True)
                code = self._wait(proc)
            failures = _failures(log)
            status = ("interrupted" if self.interrupted else
                      {0: "passed", 1: "caught", 5: "passed"}.get(code, "error"))
            if status == "error" and failures:
                status = "caught"  # e.g. a collection error or an error in a fixture
            self.progress(f"[{name}] layer {layer.name}: {status} in "
                          f"{time.monotonic() - started:.0f}s"
                          + (f" — {failures[0]}" if failures else ""))
            # Whatever the layer started must not reach the next one: heal faults (a test
            # may have stopped a component: heal restarts it).
            ws.crashcart("heal", timeout=180)
            result = LayerResult(layer.name, status, time.monotonic() - started, failures,
                                 str(log), unconfirmed)
            if status != "caught" or name == "baseline" or self.interrupted:
                return result
            if self.confirmed(layer, failures[0], name):
                return result
            unconfirmed.append(failures[0])
            attempt += 1
            if len(unconfirmed) >= MAX_UNCONFIRMED:
                result.status = "error"
                return result
        result.status = "interrupted"
        return result


def _failures(log: Path) -> list[str]:
    try:
        lines = log.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return []
    # Only pytest's short summary: captured log lines also start with "ERROR ".
    marker = next((i for i, line in enumerate(lines) if "short test summary info" in line), None)
    if marker is None:
        return []
    return [line for line in lines[marker + 1:]
            if line.startswith(("FAILED ", "ERROR "))][:20]
