"""The sequence of ``crashcart run``: lock → preflight → platform (up or reused) → layers in
order → faults removed, processes ended → report → summary → verdict.

Why one place: every exit path (green, red, preflight failure, Ctrl-C, a crashed layer) must
end the same way — nothing left in force or running, a report built from what ran — so
the sequence is one function with one ``finally``.
"""

from __future__ import annotations

import os
import random
import signal
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

import httpx

from chaos.backends.local import LocalBackend, PlatformError, preflight
from chaos.run import layers as layer_registry
from chaos.run import mesh, report, results
from chaos.run.display import Display
from chaos.run.environment import environment, write_environment, write_executor
from chaos.run.layers import Layer
from chaos.run.leftovers import RUN_ID_ENV, end_processes_of_run
from chaos.run.lock import RunLock, RunLocked
from chaos.run.pytest_layer import LayerOutcome, LayerProcess, run_layer
from chaos.run.summary import print_summary
from chaos.topology import Topology

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
EXIT_INFRASTRUCTURE = 4
"""Nothing meaningful ran: preflight failed or the platform did not come up."""
EXIT_BUSY = 75
"""Another run holds the lock (EX_TEMPFAIL: try again later)."""
EXIT_INTERRUPTED = 130
SEED_ENV = "CRASHCART_SEED"


@dataclass(slots=True)
class RunOptions:
    profile: str = layer_registry.DEFAULT
    only: list[str] = field(default_factory=list)
    skip: list[str] = field(default_factory=list)
    keep_up: bool = False
    seed: int | None = None
    paths: report.ReportPaths = field(default_factory=report.ReportPaths.default)
    report_only: bool = False
    pytest_args: list[str] = field(default_factory=list)


@dataclass(slots=True)
class Platform:
    backend: LocalBackend
    gateway_url: str
    toxiproxy_url: str
    started_here: bool


@dataclass(slots=True)
class RunState:
    """Mutable state of one run, shared with the signal handler."""

    run_id: str
    seed: int
    interrupted: bool = False
    finishing: bool = False
    layer: LayerProcess | None = None
    platform: Platform | None = None
    platform_error: str | None = None
    up_attempted: bool = False
    """This run called ``up`` on an instance that was not running (so it owns a rollback)."""
    infrastructure_failed: bool = False
    outcomes: list[LayerOutcome] = field(default_factory=list)
    cleanup_notes: list[str] = field(default_factory=list)
    environment: dict[str, str] = field(default_factory=dict)
    """Read from the platform while it still runs (versions), written with the report."""

    def on_signal(self, signum: int, _frame: FrameType | None) -> None:
        if self.finishing:
            return  # cleanup and the report run to their end; they are bounded
        self.interrupted = True
        if self.layer is not None and self.layer.proc.poll() is None:
            self.layer.interrupt()
            return
        raise KeyboardInterrupt


class Orchestrator:
    """Runs the selected layers against one platform instance and builds the report."""

    def __init__(self, topology: Topology, state_dir: Path | None, options: RunOptions,
                 display: Display | None = None) -> None:
        self.topology = topology
        self.backend = LocalBackend(topology, state_dir)
        self.options = options
        self.display = display or Display()
        self.work_dir = self.backend.state.root / "run"

    # ---- entry point ------------------------------------------------------------------------
    def run(self) -> int:
        lock = RunLock(self.backend.state.root / "run.lock")
        try:
            lock.acquire()
        except RunLocked as exc:
            self.display.console.print(f"crashcart run: {exc}", markup=False)
            return EXIT_BUSY
        try:
            if self.options.report_only:
                return self._report_only()
            return self._run()
        finally:
            lock.release()

    def _run(self) -> int:
        options = self.options
        selected = layer_registry.select(options.profile, options.only, options.skip)
        seed = options.seed if options.seed is not None else random.randrange(1, 2**31)
        state = RunState(run_id=uuid.uuid4().hex[:12], seed=seed)
        previous = {sig: signal.signal(sig, state.on_signal)
                    for sig in (signal.SIGINT, signal.SIGTERM)}
        started_wall = time.time()
        try:
            with self.display:
                self.display.note(f"crashcart run {state.run_id}: profile {options.profile}, "
                                  f"seed {seed}, layers "
                                  f"{', '.join(layer.name for layer in selected) or '(none)'}")
                self._prepare_results()
                try:
                    self._preflight(state, selected)
                    for layer in selected:
                        if state.interrupted:
                            break
                        state.outcomes.append(self._one_layer(state, layer))
                except KeyboardInterrupt:
                    state.interrupted = True
                finally:
                    state.finishing = True
                    self._finish(state)
                outcome = self._build_report(state, selected, started_wall)
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        return print_summary(self.display.console, state=state, selected=selected,
                             report_outcome=outcome, paths=options.paths,
                             verdict=self._verdict(state, outcome))

    # ---- phases -----------------------------------------------------------------------------
    def _prepare_results(self) -> None:
        results_dir = self.options.paths.results
        results_dir.mkdir(parents=True, exist_ok=True)
        for path in results_dir.iterdir():
            if path.is_file():
                path.unlink()
        self.work_dir.mkdir(parents=True, exist_ok=True)

    def _preflight(self, state: RunState, selected: list[Layer]) -> None:
        self.display.set_phase("preflight")
        problems: list[str] = []
        if any(layer.needs_platform for layer in selected):
            problems += preflight.check_dependencies(self.topology)
            try:
                preflight.find_js_module(preflight.find_nginx())
            except PlatformError as exc:
                problems += getattr(exc, "problems", [str(exc)])
        if report.allure_binary() is None:
            self.display.note(f"warning: the Allure 3 CLI is missing ({report.ALLURE_BIN}); "
                              "results are kept, no HTML report (run `make setup`)")
        if problems:
            state.infrastructure_failed = True
            state.platform_error = "preflight failed:\n" + "\n".join(f"  - {p}" for p in problems)
            self._infrastructure_result("preflight", state.platform_error)
            self.display.note(state.platform_error)

    def _ensure_platform(self, state: RunState) -> Platform | None:
        if state.platform is not None or state.platform_error is not None:
            return state.platform
        self.display.set_phase("platform: up or reuse")
        url = self.topology.gateway_url
        recorded = self.backend.state.load()
        if recorded is None and _answers(f"{url}/health"):
            self.display.note(f"reusing the platform answering at {url} (not started here)")
            state.platform = Platform(self.backend, url, self.topology.toxiproxy_url, False)
            return state.platform
        state.up_attempted = recorded is None
        try:
            handle = self.backend.up(progress=lambda line: self.display.note(f"  {line}"))
        except PlatformError as exc:
            state.infrastructure_failed = True
            state.platform_error = f"could not bring the platform up:\n{exc}"
            self._infrastructure_result("platform up", state.platform_error)
            self.display.note(state.platform_error)
            return None
        state.platform = Platform(self.backend, handle.gateway_url, handle.toxiproxy_url,
                                  started_here=not handle.already_running)
        if handle.already_running:
            self.display.note("reusing the platform recorded in "
                              f"{self.backend.state.state_file}")
        return state.platform

    def _one_layer(self, state: RunState, layer: Layer) -> LayerOutcome:
        if not layer.present_paths():
            self.display.note(f"layer {layer.name}: absent (no tests at "
                              f"{', '.join(layer.paths)})")
            return LayerOutcome(layer, "absent", note="not written yet")
        platform = self._ensure_platform(state) if layer.needs_platform else state.platform
        if layer.needs_platform and platform is None:
            return LayerOutcome(layer, "not run", note="the platform is not available")
        self.display.set_phase(f"layer {layer.name}")

        def started(proc: LayerProcess) -> None:
            state.layer = proc

        outcome = run_layer(layer, results_dir=self.options.paths.results,
                            work_dir=self.work_dir, profile=self.options.profile,
                            seed=state.seed, env=self._layer_env(state), on_start=started,
                            on_tick=self.display.tick, extra_args=self.options.pytest_args)
        state.layer = None
        counts = outcome.counts
        if outcome.status == "interrupted":
            done = counts.done if counts else 0
            results.write_result(
                self.options.paths.results, name=f"run interrupted during layer {layer.name}",
                status=results.SKIPPED, layer=layer.name, feature="orchestrator",
                message=f"interrupted (signal) after {done} test(s) of layer {layer.name}; "
                        "the layers after it did not run", severity="normal")
        self.display.layer_done(counts.passed if counts else 0, counts.failed if counts else 0)
        self.display.note(f"layer {layer.name}: {outcome.status}"
                          f"{f' ({outcome.note})' if outcome.note else ''} "
                          f"in {outcome.seconds:.0f}s")
        if outcome.status == "error":
            results.write_result(
                self.options.paths.results, name=f"layer {layer.name} ran to its end",
                status=results.BROKEN, layer=layer.name, message=f"infrastructure: {outcome.note}",
                attachments=_log_attachment(outcome.log))
        if state.platform is not None:
            self._check_faults(state, f"after layer {layer.name}", layer.name)
        return outcome

    def _check_faults(self, state: RunState, when: str, layer: str) -> None:
        platform = state.platform
        assert platform is not None
        left = mesh.faults_in_force(platform.backend, platform.toxiproxy_url)
        if not left:
            return
        done = mesh.heal_everything(platform.backend, platform.toxiproxy_url)
        message = (f"fault left behind {when}:\n" + "\n".join(f"  - {line}" for line in left)
                   + "\nhealed: " + "; ".join(done))
        results.write_result(self.options.paths.results, name=f"no fault left behind {when}",
                             status=results.FAILED, layer=layer, feature="mesh",
                             message=message)
        self.display.note(message)

    def _finish(self, state: RunState) -> None:
        """Faults removed, processes of the run ended, the platform down if started here."""
        self.display.set_phase("cleanup")
        platform = state.platform
        recorded = self.backend.state.load() if platform is not None else None
        state.environment = environment(
            self.topology, toxiproxy_url=platform.toxiproxy_url if platform else None,
            service_urls=recorded.service_urls if recorded is not None else None)
        if platform is not None:
            if state.interrupted:
                state.cleanup_notes += mesh.heal_everything(platform.backend,
                                                            platform.toxiproxy_url)
            else:
                self._check_faults(state, "at the end of the run", "run")
        if platform is None and state.up_attempted:
            # An interrupt or a failure cut `up` (or its own rollback) short.
            down = self.backend.down(progress=lambda line: self.display.note(f"  {line}"))
            if down.was_running:
                state.cleanup_notes.append("the half-started platform was stopped")
        recorded_now = self.backend.state.load()
        components = {c.pid for c in recorded_now.components} if recorded_now else set()
        ended = end_processes_of_run(state.run_id, keep_groups=components)
        if ended:
            state.cleanup_notes.append(f"ended {len(ended)} process(es) the layers left: "
                                       + "; ".join(ended))
        if platform is not None and platform.started_here:
            if self.options.keep_up:
                state.cleanup_notes.append(f"platform left up (--keep-up): {platform.gateway_url}"
                                           " — `crashcart down` stops it")
            else:
                down = self.backend.down(progress=lambda line: self.display.note(f"  {line}"))
                state.cleanup_notes.append("platform stopped" if down.clean else
                                           f"platform stopped, ports still held: "
                                           f"{down.leftover_ports}")
        for note in state.cleanup_notes:
            self.display.note(note)

    def _build_report(self, state: RunState, selected: list[Layer],
                      started_wall: float) -> report.ReportOutcome:
        self.display.set_phase("report")
        paths = self.options.paths
        ran = [o.layer.name for o in state.outcomes if o.status not in ("absent", "not run")]
        absent = [o.layer.name for o in state.outcomes if o.status == "absent"]
        extra = {
            "run.id": state.run_id,
            "run.profile": self.options.profile,
            "run.seed": str(state.seed),
            "run.layers": ", ".join(ran) or "(none)",
            "run.layers.absent": ", ".join(absent) or "(none)",
            "run.interrupted": "yes" if state.interrupted else "no",
            "run.started": time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(started_wall)),
        }
        write_environment(paths.results, {**state.environment, **extra})
        order = _history_entries(paths.history) + 1
        write_executor(paths.results, build_name=f"crashcart run #{order} "
                                                  f"({self.options.profile}, {state.run_id})",
                       build_order=order)
        report.write_categories(paths.results)
        # The gate's floor: every test the finished layers collected has a result.
        expected = sum(o.counts.collected for o in state.outcomes
                       if o.counts is not None and o.status in ("passed", "failed"))
        configs = report.write_configs(paths, self.work_dir, name="Crashcart",
                                       min_tests=expected)
        return report.generate(paths, configs, quality_gate=not state.interrupted)

    def _report_only(self) -> int:
        self.display.set_phase("report (from existing results)")
        paths = self.options.paths
        report.write_categories(paths.results)
        configs = report.write_configs(paths, self.work_dir, name="Crashcart")
        outcome = report.generate(paths, configs, quality_gate=False)
        self.display.note(f"report: {outcome.index}" if outcome.built
                          else f"report not built: {outcome.output}")
        return EXIT_OK if outcome.built else EXIT_FAILED

    # ---- helpers ----------------------------------------------------------------------------
    def _layer_env(self, state: RunState) -> dict[str, str]:
        env = dict(os.environ)
        env.update({RUN_ID_ENV: state.run_id, SEED_ENV: str(state.seed),
                    "CRASHCART_STATE_DIR": str(self.backend.state.root)})
        return env

    def _infrastructure_result(self, name: str, message: str) -> None:
        results.write_result(self.options.paths.results, name=name, status=results.BROKEN,
                             layer="run", feature="infrastructure", message=message)

    @staticmethod
    def _verdict(state: RunState, outcome: report.ReportOutcome) -> int:
        if state.interrupted:
            return EXIT_INTERRUPTED
        if state.infrastructure_failed:
            return EXIT_INFRASTRUCTURE
        if any(not o.ok for o in state.outcomes) or outcome.quality_gate_ok is False:
            return EXIT_FAILED
        return EXIT_OK


def _answers(url: str) -> bool:
    try:
        httpx.get(url, timeout=3.0)
        return True
    except httpx.HTTPError:
        return False


def _history_entries(path: Path) -> int:
    try:
        with open(path, "rb") as handle:
            return sum(1 for line in handle if line.strip())
    except OSError:
        return 0


def _log_attachment(log: Path | None) -> dict[str, str]:
    if log is None:
        return {}
    try:
        return {"layer output (tail)": "\n".join(log.read_text(errors="replace")
                                                 .splitlines()[-200:])}
    except OSError:
        return {}

