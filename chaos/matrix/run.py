"""Run matrix cells: each one an experiment with a fresh workload, the mesh reset and every
component healed before it (cells independent), the invariants checked after it."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from chaos.experiments.journal import iso
from chaos.experiments.runner import run_experiment
from chaos.experiments.workload import BuyerCache
from chaos.faults.base import FaultContext
from chaos.faults.heal import heal_everything
from chaos.faults.session import FaultSession
from chaos.matrix.cells import Cell
from chaos.matrix.report import Breach, CellResult, RunOutcome

Progress = Callable[[str], None]


def _quiet(_: str) -> None:
    pass


def outcome_of(journal: dict[str, object], cell_id: str, path: Path) -> RunOutcome:
    """What one journal says: its status, every failed invariant with its evidence."""
    invariants = journal.get("invariants") or []
    assert isinstance(invariants, list)
    failed = [v for v in invariants if not v.get("ok")]
    seed = int(journal.get("seed", 0))  # type: ignore[call-overload]
    found = [Breach(cell=cell_id, invariant=str(v["invariant"]),
                    evidence=[str(e) for e in v.get("breaches") or []], seed=seed,
                    journal=str(path)) for v in failed]
    status = str(journal.get("status"))
    if status != "completed" and not found:
        after = journal.get("steady_state_after") or {}
        reason = str(journal.get("error") or "") or f"steady state: {after}"
        found.append(Breach(cell=cell_id, invariant=f"status {status}", evidence=[reason],
                            seed=seed, journal=str(path)))
    recovery = journal.get("recovery") or {}
    assert isinstance(recovery, dict)
    return RunOutcome(seed=seed, status=status, journal=str(path),
                      failed_invariants=[str(v["invariant"]) for v in failed], breaches=found,
                      recovery_s=recovery.get("recovery_s"),
                      duration_s=float(journal.get("duration_s", 0.0)))  # type: ignore[arg-type]


OVERHEAD_S = 3.5
"""Set-up and checks around a cell's window (steady state, warm-up, recovery, invariants),
measured on this machine; used for the ETA and to balance shards."""


def estimated_s(cell: Cell) -> float:
    return cell.window_s + OVERHEAD_S


def shard(cells: list[Cell], index: int, count: int) -> list[Cell]:
    """Shard ``index`` of ``count``: longest cells first, each to the least loaded shard
    (balanced wall time); the cells keep their matrix order within a shard."""
    loads = [0.0] * count
    owner: dict[str, int] = {}
    for cell in sorted(cells, key=lambda c: (-estimated_s(c), c.id)):
        least = min(range(count), key=lambda k: (loads[k], k))
        loads[least] += estimated_s(cell)
        owner[cell.id] = least
    return [c for c in cells if owner[c.id] == index]


def run_cell(cell: Cell, ctx: FaultContext, *, base_seed: int, repeat: int,
             journal_dir: Path, progress: Progress = _quiet,
             session: FaultSession | None = None,
             buyer_cache: BuyerCache | None = None) -> CellResult:
    result = CellResult(cell=cell)
    for index in range(repeat):
        heal_everything(ctx)  # mesh reset, every component running: the cell starts clean
        experiment = cell.experiment(base_seed, index)
        slug = cell.id.replace(":", "-").replace("@", "-")
        path = journal_dir / f"{slug}-seed{experiment.seed}.json"
        run = run_experiment(experiment, ctx=ctx, journal_path=path, session=session,
                             steady_state_after=False, buyer_cache=buyer_cache,
                             progress=lambda line: progress(f"    {line}"))
        outcome = outcome_of(run.journal.as_json(), cell.id, path)
        result.runs.append(outcome)
        rec = f"{outcome.recovery_s:.1f}s" if outcome.recovery_s is not None else "-"
        progress(f"  {cell.id} seed {experiment.seed}: {outcome.status} (recovery {rec}"
                 + (f"; failed: {', '.join(outcome.failed_invariants)}"
                    if outcome.failed_invariants else "") + ")")
    return result


def run_matrix(cells: list[Cell], ctx: FaultContext, *, base_seed: int = 1, repeat: int = 1,
               journal_dir: Path | None = None, progress: Progress = _quiet,
               results: list[CellResult] | None = None) -> list[CellResult]:
    """Run every cell in order; ``results`` (if given) is filled as cells finish, so an
    interrupted run still has what it did. One fault session (one watchdog) serves every
    cell; it is healed after each and closed at the end, also on Ctrl-C."""
    journal_dir = journal_dir or ctx.state_dir / "chaos" / "matrix" / \
        time.strftime("%Y%m%dT%H%M%S")
    done = results if results is not None else []
    began = time.monotonic()
    planned_s = sum(estimated_s(c) for c in cells) * repeat
    left_s = planned_s
    session = FaultSession(ctx)
    buyers = BuyerCache()
    try:
        session.start()
        for number, cell in enumerate(cells, start=1):
            elapsed = time.monotonic() - began
            failing = sum(1 for r in done if r.failures)
            # The estimate scaled by how fast this machine has really been so far.
            pace = elapsed / (planned_s - left_s) if planned_s > left_s else 1.0
            progress(f"[{number}/{len(cells)}] {cell.id} ({cell.window_s:g}s window) "
                     f"at {iso(time.time())}; {elapsed:.0f}s elapsed, "
                     f"~{left_s * pace:.0f}s left, {failing} failing")
            done.append(run_cell(cell, ctx, base_seed=base_seed, repeat=repeat,
                                 journal_dir=journal_dir, progress=progress, session=session,
                                 buyer_cache=buyers))
            left_s -= estimated_s(cell) * repeat
    finally:
        try:
            session.close()
        finally:
            heal_everything(ctx)
    return done
