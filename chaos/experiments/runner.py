"""Run an experiment: steady state → workload → timed fault phases → rollbacks (always) →
recovery and invariants → steady state again; everything into the journal.

Rollbacks run in a ``finally``: also when a phase fails or the run is interrupted (Ctrl-C or
SIGTERM), which Chaos Toolkit itself skips (its issues #195/#258). Every fault also carries
a TTL enforced by the watchdog process, for the case where this process dies outright.
"""

from __future__ import annotations

import random
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx

from chaos.experiments import checkout_phase
from chaos.experiments.journal import Journal, iso
from chaos.experiments.model import Experiment, Phase
from chaos.experiments.toxiproxy_seed import reseed
from chaos.experiments.workload import BuyerCache, CheckoutWorkload
from chaos.faults.base import FaultContext, fault_from_spec
from chaos.faults.heal import heal_everything
from chaos.faults.ledger import FaultRecord
from chaos.faults.proxies import ProxyDown
from chaos.faults.session import FaultSession
from chaos.invariants import (
    CheckContext,
    FaultWindow,
    ReadinessSampler,
    Scope,
    Sources,
    broker_baseline,
    check,
)
from chaos.invariants.base import HttpSample

Progress = Callable[[str], None]


@dataclass(slots=True)
class RunResult:
    journal: Journal
    path: Path

    @property
    def ok(self) -> bool:
        return self.journal.ok


def _quiet(_: str) -> None:
    pass


def default_journal_path(ctx: FaultContext, experiment: Experiment) -> Path:
    slug = re.sub(r"[^a-z0-9]+", "-", experiment.title.lower()).strip("-")[:60]
    stamp = time.strftime("%Y%m%dT%H%M%S")
    return ctx.state_dir / "chaos" / "journals" / f"{stamp}-{slug}.json"


def run_experiment(experiment: Experiment, *, ctx: FaultContext | None = None,
                   journal_path: Path | None = None, progress: Progress = _quiet,
                   session: FaultSession | None = None,
                   steady_state_after: bool = True,
                   buyer_cache: BuyerCache | None = None) -> RunResult:
    """Run one experiment. ``session``: a started session (and watchdog) shared by several
    runs, as the matrix does to save a watchdog start per cell; it is healed, not closed.
    ``steady_state_after=False`` (the matrix) leaves out the closing steady-state probe:
    the ``recovery`` invariant's fresh checkout already showed it, and the next cell
    probes again before its faults. ``buyer_cache``: buyers kept across runs (the matrix)."""
    ctx = ctx or FaultContext.from_environment()
    experiment.validate()
    journal = Journal(title=experiment.title, seed=experiment.seed,
                      experiment=experiment.to_dict())
    path = journal_path or default_journal_path(ctx, experiment)
    topology = ctx.topology
    sources = Sources(topology)
    workload = CheckoutWorkload(topology, experiment.workload, random.Random(experiment.seed),
                                buyer_cache)
    sampler = ReadinessSampler(topology) if "readiness_truthful" in experiment.invariants \
        else None
    own_session = session is None
    session = session or FaultSession(ctx)
    windows: list[FaultWindow] = []
    interrupted: BaseException | None = None
    cleared_at: float | None = None
    checks = CheckContext(topology=topology, sources=sources, bounds=experiment.bounds)
    try:
        session.start()
        journal.toxiproxy = reseed(ctx.toxiproxy_url, experiment.seed)
        with journal.step("steady-state hypothesis (before)", "probe") as step:
            journal.steady_state_before = _steady_state(experiment, workload, progress,
                                                        setup=True)
            step.ok = bool(journal.steady_state_before["met"])
            step.detail = step.ok
        if not journal.steady_state_before["met"]:
            journal.status = "aborted"
        else:
            checks.baseline = broker_baseline(checks)
            if sampler is not None:
                sampler.start()
            workload.start()
            with journal.step("warm-up", "workload"):
                time.sleep(experiment.warmup_s)
            for phase in experiment.method:
                _run_phase(phase, session, ctx, journal, windows, progress, workload)
    except KeyboardInterrupt as exc:
        interrupted = exc
        journal.status = "interrupted"
        progress("interrupted: rolling back")
    except Exception as exc:
        journal.status = "failed"
        journal.error = f"{type(exc).__name__}: {exc}"
        progress(f"method failed ({journal.error}): rolling back")
    finally:
        _rollbacks(experiment, session, ctx, journal, progress, close=own_session)
        cleared_at = time.time()
        for window in windows:
            window.removed_at = window.removed_at or cleared_at
        workload.stop()
        _traffic_in_windows(journal, workload.samples)
    try:
        if interrupted is None and journal.status == "running":
            checks.scope = Scope(accepted=tuple(workload.accepted),
                                 product_ids=tuple(workload.all_product_ids()))
            checks.faults_cleared_at = max([w.removed_at or cleared_at for w in windows]
                                           + [cleared_at]) if windows else cleared_at
            checks.samples = workload.samples
            checks.windows = windows
            checks.checkout_probe = workload.checkout_probe
            _verdicts(experiment, checks, sampler, journal, progress)
            if steady_state_after:
                with journal.step("steady-state hypothesis (after)", "probe") as step:
                    journal.steady_state_after = _steady_state(experiment, workload, progress)
                    step.ok = bool(journal.steady_state_after["met"])
                    step.detail = step.ok
            else:
                journal.steady_state_after = {"met": True, "skipped": "shown by recovery"}
            deviated = not journal.steady_state_after["met"] or \
                any(not v["ok"] for v in journal.invariants)
            journal.status = "deviated" if deviated else "completed"
    except KeyboardInterrupt as exc:
        interrupted = exc
        journal.status = "interrupted"
    finally:
        if sampler is not None:
            sampler.stop()
        journal.workload = workload.stats()
        journal.ended = time.time()
        journal.write(path)
        progress(f"journal: {path} ({journal.status})")
    if interrupted is not None:
        raise interrupted
    return RunResult(journal=journal, path=path)


def _run_phase(phase: Phase, session: FaultSession, ctx: FaultContext, journal: Journal,
               windows: list[FaultWindow], progress: Progress,
               workload: CheckoutWorkload | None = None) -> None:
    with journal.step(f"phase: {phase.name}", "method") as step:
        active: list[tuple[FaultRecord, FaultWindow, dict[str, object]]] = []
        tracked = checkout_phase.before_injection(phase.checkout, workload)
        try:
            for spec in phase.faults:
                fault = fault_from_spec(spec)
                cuts = tuple(fault.cut_edges(ctx)) if isinstance(fault, ProxyDown) else ()
                record = session.inject(fault, ttl_s=phase.effective_ttl_s)
                window = FaultWindow(description=record.description,
                                     applied_at=record.applied_at, removed_at=None, cuts=cuts)
                windows.append(window)
                entry: dict[str, object] = {
                    "id": record.id, "fault": spec, "description": record.description,
                    "applied_at": iso(record.applied_at), "t_applied_s": journal.t(record.applied_at),
                    "ttl_s": phase.effective_ttl_s, "phase": phase.name}
                journal.faults.append(entry)
                active.append((record, window, entry))
                progress(f"+{journal.t():.1f}s applied {record.description} "
                         f"(ttl {phase.effective_ttl_s:.0f}s)")
            checkout_phase.after_injection(tracked, workload)
            time.sleep(phase.duration_s)
        finally:
            for record, window, entry in reversed(active):
                still_ours = session.remove(record)
                window.removed_at = time.time()
                entry["removed_at"] = iso(window.removed_at)
                entry["t_removed_s"] = journal.t(window.removed_at)
                entry["removed_by"] = "controller" if still_ours else "watchdog (ttl)"
                progress(f"+{journal.t():.1f}s removed {record.description}")
        checkout_phase.finish(tracked, workload)
        step.detail = [e["description"] for _, _, e in active]
        if tracked is not None:
            step.detail = {"faults": step.detail, "checkout": tracked.as_json()}
        if phase.pause_after_s:
            time.sleep(phase.pause_after_s)


def _traffic_in_windows(journal: Journal, samples: list[HttpSample]) -> None:
    """Evidence that a fault met traffic: the answers to requests sent while it was in force
    (the workload's checkouts, the tracked checkout and the route prober)."""
    for entry in journal.faults:
        start = journal.started + float(entry.get("t_applied_s") or 0.0)  # type: ignore[arg-type]
        end = journal.started + float(entry.get("t_removed_s") or journal.t())  # type: ignore[arg-type]
        inside = [x for x in list(samples) if start <= x.at <= end]
        by_status: dict[str, int] = {}
        for sample in inside:
            by_status[str(sample.status)] = by_status.get(str(sample.status), 0) + 1
        entry["traffic_in_window"] = {
            "requests": len(inside), "by_status": by_status,
            "slowest_s": round(max((x.elapsed_s for x in inside), default=0.0), 3)}


def _rollbacks(experiment: Experiment, session: FaultSession, ctx: FaultContext,
               journal: Journal, progress: Progress, *, close: bool = True) -> None:
    """Always run every rollback, then close the session (each step isolated); a shared
    session is only healed."""
    for rollback in experiment.rollbacks:
        try:
            with journal.step(f"rollback: {rollback.name}", "rollback") as step:
                if rollback.action in ("heal", "heal_faults"):
                    step.detail = [r.description for r in session.heal_all()]
                if rollback.action == "heal":
                    report = heal_everything(ctx)
                    step.detail = {"session": step.detail, "undone": report.undone,
                                   "mesh_reset": report.mesh_reset,
                                   "components": report.components, "errors": report.errors}
                elif rollback.action == "reset_mesh":
                    ctx.admin.reset()
                elif rollback.action == "heal_processes":
                    step.detail = ctx.backend.heal()
        except Exception as exc:
            progress(f"rollback {rollback.name} failed: {exc!r}")
    try:
        if close:
            session.close()
        else:
            session.heal_all()
    except Exception as exc:
        progress(f"closing the fault session failed: {exc!r}")


def _verdicts(experiment: Experiment, checks: CheckContext, sampler: ReadinessSampler | None,
              journal: Journal, progress: Progress) -> None:
    names = list(experiment.invariants)
    ordered = (["recovery"] if "recovery" in names else []) + \
        [n for n in names if n != "recovery"]
    for name in ordered:
        if name == "readiness_truthful" and sampler is not None:
            with journal.step("readiness: await recovery", "probe") as step:
                step.detail = round(sampler.await_recovery(
                    checks.windows, checks.topology, checks.bounds.readiness_recover_s), 3)
            checks.readiness = sampler.stop()
        with journal.step(f"invariant: {name}", "invariant") as step:
            verdict = check(name, checks)
            step.ok = verdict.ok
            step.detail = verdict.breaches[:5]
        journal.invariants.append(verdict.as_json())
        if name == "recovery":
            journal.recovery = dict(verdict.details)
        progress(f"{'ok  ' if verdict.ok else 'FAIL'} {name}"
                 + ("" if verdict.ok else ": " + "; ".join(verdict.breaches[:3])))


def _steady_state(experiment: Experiment, workload: CheckoutWorkload, progress: Progress,
                  *, setup: bool = False) -> dict[str, object]:
    results: dict[str, object] = {}
    if "platform_ready" in experiment.steady_state.probes:
        results["platform_ready"] = _gateway_ready(workload.base_url, timeout_s=30.0)
    if setup:
        workload.setup()
    if "checkout_succeeds" in experiment.steady_state.probes:
        results["checkout_succeeds"] = workload.checkout_probe(30.0)
    met = all(bool(v) for v in results.values())
    progress(f"steady state {'met' if met else 'NOT met'}: {results}")
    return {"title": experiment.steady_state.title, "probes": results, "met": met}


def _gateway_ready(url: str, *, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/health", timeout=3.0).status_code == 200:
                return True
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    return False
