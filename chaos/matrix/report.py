"""Matrix results: per-cell outcomes, the failure probability with its Wilson interval, the
ranking by invariant breaches, and the terminal table / JSON document."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chaos.matrix.cells import Cell


def wilson_interval(failures: int, runs: int, z: float = 1.96) -> tuple[float, float]:
    """95 % Wilson score interval of a failure probability (sound at 0/N and N/N)."""
    if runs <= 0:
        return 0.0, 1.0
    p = failures / runs
    denominator = 1 + z * z / runs
    centre = (p + z * z / (2 * runs)) / denominator
    half = z * math.sqrt(p * (1 - p) / runs + z * z / (4 * runs * runs)) / denominator
    return max(0.0, round(centre - half, 4)), min(1.0, round(centre + half, 4))


@dataclass(slots=True)
class Breach:
    cell: str
    invariant: str
    evidence: list[str]
    seed: int
    journal: str


@dataclass(slots=True)
class RunOutcome:
    """One run of a cell under one seed."""

    seed: int
    status: str
    journal: str
    failed_invariants: list[str] = field(default_factory=list)
    breaches: list[Breach] = field(default_factory=list)
    recovery_s: float | None = None
    duration_s: float = 0.0

    @property
    def failed(self) -> bool:
        return self.status != "completed"


@dataclass(slots=True)
class CellResult:
    cell: Cell
    runs: list[RunOutcome] = field(default_factory=list)

    @property
    def failures(self) -> int:
        return sum(1 for r in self.runs if r.failed)

    @property
    def breach_count(self) -> int:
        return sum(len(b.evidence) or 1 for r in self.runs for b in r.breaches)

    @property
    def interval(self) -> tuple[float, float]:
        return wilson_interval(self.failures, len(self.runs))

    @property
    def recovery_s(self) -> float | None:
        times = [r.recovery_s for r in self.runs if r.recovery_s is not None]
        return max(times) if times else None

    def as_json(self) -> dict[str, Any]:
        low, high = self.interval
        return {"cell": self.cell.id, "target": self.cell.target, "fault": self.cell.fault,
                "phase": self.cell.phase, "edge_kind": self.cell.edge_kind,
                "fault_spec": self.cell.fault_spec, "window_s": self.cell.window_s,
                "caller_timeout_s": self.cell.caller_timeout_s,
                "runs": len(self.runs), "failures": self.failures,
                "failure_probability": round(self.failures / len(self.runs), 4)
                if self.runs else None,
                "wilson_95": [low, high], "breaches": self.breach_count,
                "max_recovery_s": self.recovery_s,
                "outcomes": [{"seed": r.seed, "status": r.status, "journal": r.journal,
                              "failed_invariants": r.failed_invariants,
                              "recovery_s": r.recovery_s, "duration_s": r.duration_s}
                             for r in self.runs]}


def ranked(results: list[CellResult]) -> list[CellResult]:
    """Most breaches first (then most failing runs); a clean cell keeps matrix order."""
    order = {id(r): i for i, r in enumerate(results)}
    return sorted(results, key=lambda r: (-r.breach_count, -r.failures, order[id(r)]))


def breaches(results: list[CellResult]) -> list[Breach]:
    return [b for r in ranked(results) for run in r.runs for b in run.breaches]


def document(results: list[CellResult], *, tier: str, base_seed: int, repeat: int,
             started_at: str, duration_s: float, complete: bool) -> dict[str, Any]:
    return {"tier": tier, "base_seed": base_seed, "repeat": repeat, "started_at": started_at,
            "duration_s": round(duration_s, 1), "complete": complete,
            "cells_run": len(results), "cells_failing": sum(1 for r in results if r.failures),
            "cells": [r.as_json() for r in ranked(results)],
            "breaches": [{"cell": b.cell, "invariant": b.invariant, "evidence": b.evidence,
                          "seed": b.seed, "journal": b.journal} for b in breaches(results)]}


def write(doc: dict[str, Any], path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=2, default=str))
    return path


def table(results: list[CellResult]) -> str:
    """The ranked table for the terminal (and the docs); breaches listed under it."""
    lines = [f"{'#':>3} {'cell':44} {'runs':>4} {'fail':>4} {'p_fail [95% Wilson]':>21} "
             f"{'recovery_s':>10}  verdict"]
    for rank, result in enumerate(ranked(results), start=1):
        low, high = result.interval
        p = result.failures / len(result.runs) if result.runs else 0.0
        rec = f"{result.recovery_s:.1f}" if result.recovery_s is not None else "-"
        statuses = sorted({r.status for r in result.runs})
        failed = sorted({n for r in result.runs for n in r.failed_invariants})
        verdict = "ok" if not result.failures else \
            f"{'/'.join(statuses)}: {', '.join(failed) or 'steady state'}"
        lines.append(f"{rank:>3} {result.cell.id:44} {len(result.runs):>4} "
                     f"{result.failures:>4} {p:>5.2f} [{low:.2f}, {high:.2f}]{'':5} "
                     f"{rec:>10}  {verdict}")
    found = breaches(results)
    if found:
        lines.append("")
        lines.append("breaches (cell / invariant / evidence):")
        for breach in found:
            shown = "; ".join(breach.evidence[:3]) or "(no evidence recorded)"
            lines.append(f"  {breach.cell} / {breach.invariant} (seed {breach.seed}): {shown}")
            lines.append(f"      journal: {breach.journal}")
    return "\n".join(lines)


def results_from_document(doc: dict[str, Any], cells: dict[str, Cell]) -> list[CellResult]:
    """Read a matrix document back into results (to merge the parts of a parallel run)."""
    evidence: dict[tuple[str, int], list[Breach]] = {}
    for item in doc.get("breaches") or []:
        breach = Breach(cell=item["cell"], invariant=item["invariant"],
                        evidence=list(item["evidence"]), seed=int(item["seed"]),
                        journal=item["journal"])
        evidence.setdefault((breach.cell, breach.seed), []).append(breach)
    results = []
    for entry in doc.get("cells") or []:
        result = CellResult(cell=cells[entry["cell"]])
        for run in entry["outcomes"]:
            result.runs.append(RunOutcome(
                seed=int(run["seed"]), status=run["status"], journal=run["journal"],
                failed_invariants=list(run["failed_invariants"]),
                breaches=evidence.get((entry["cell"], int(run["seed"])), []),
                recovery_s=run["recovery_s"], duration_s=float(run["duration_s"])))
        results.append(result)
    return results
