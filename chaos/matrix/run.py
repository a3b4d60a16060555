"""Run matrix cells: each one an experiment with a fresh workload, the mesh reset and every
component healed before it (cells independent), the invariants checked after it."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from chaos.experiments.journal import iso
from chaos.experiments.runner import run_experiment
from chaos.faults.base import FaultContext
from chaos.faults.heal import heal_everything
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


def run_cell(cell: Cell, ctx: FaultContext, *, base_seed: int, repeat: int,
             journal_dir: Path, progress: Progress = _quiet) -> CellResult:
    result = CellResult(cell=cell)
    for index in range(repeat):
        heal_everything(ctx)  # mesh reset, every component running: the cell starts clean
        experiment = cell.experiment(base_seed, index)
        slug = cell.id.replace(":", "-").replace("@", "-")
        path = journal_dir / f"{slug}-seed{experiment.seed}.json"
        run = run_experiment(experiment, ctx=ctx, journal_path=path,
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
    interrupted run still has what it did."""
    journal_dir = journal_dir or ctx.state_dir / "chaos" / "matrix" / \
        time.strftime("%Y%m%dT%H%M%S")
    done = results if results is not None else []
    for number, cell in enumerate(cells, start=1):
        progress(f"[{number}/{len(cells)}] {cell.id} ({cell.window_s:g}s window) "
                 f"at {iso(time.time())}")
        done.append(run_cell(cell, ctx, base_seed=base_seed, repeat=repeat,
                             journal_dir=journal_dir, progress=progress))
    heal_everything(ctx)
    return done
