"""The terminal summary of ``crashcart run``: layers, failures by category, where the report
is, and the verdict (the exit code).

Why: the person at the terminal (or the CI log) should know in ten lines what failed and
why, and where to look next, without opening the report.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

from rich.console import Console
from rich.table import Table

from chaos.run import categories
from chaos.run.report import ReportOutcome, ReportPaths
from chaos.run.results import read_results

if TYPE_CHECKING:
    from chaos.run.layers import Layer
    from chaos.run.orchestrator import RunState

VERDICTS = {0: "PASSED", 1: "FAILED", 4: "NOT RUN (infrastructure or preflight)",
            130: "INTERRUPTED"}
MAX_FAILURES_SHOWN = 15


def print_summary(console: Console, *, state: RunState, selected: list[Layer],
                  report_outcome: ReportOutcome, paths: ReportPaths, verdict: int) -> int:
    table = Table(title="crashcart run", show_edge=False, header_style="bold")
    for column in ("layer", "status", "passed", "failed", "skipped", "time"):
        table.add_column(column, justify="right" if column not in ("layer", "status") else "left")
    seen = {o.layer.name for o in state.outcomes}
    for outcome in state.outcomes:
        counts = outcome.counts
        table.add_row(outcome.layer.name, outcome.status + (f" — {outcome.note}"
                                                           if outcome.note else ""),
                      str(counts.passed) if counts else "-", str(counts.failed) if counts else "-",
                      str(counts.outcomes["skipped"]) if counts else "-",
                      f"{outcome.seconds:.0f}s" if outcome.seconds else "-")
    for layer in selected:
        if layer.name not in seen:
            table.add_row(layer.name, "not run (interrupted)" if state.interrupted
                          else "not run", "-", "-", "-", "-")
    console.print(table)

    failures = _failures(paths)
    if failures:
        by_category = Counter(name for name, _ in failures)
        console.print("failures by category: " + ", ".join(
            f"{name} {count}" for name, count in by_category.most_common()), markup=False)
        for name, title in failures[:MAX_FAILURES_SHOWN]:
            console.print(f"  [{name}] {title}", markup=False)
        if len(failures) > MAX_FAILURES_SHOWN:
            console.print(f"  ... {len(failures) - MAX_FAILURES_SHOWN} more in the report",
                          markup=False)
    if report_outcome.quality_gate_ok is False:
        console.print("quality gate: " + report_outcome.quality_gate_output.strip()
                      .replace("\n\n", "\n"), markup=False)
    if report_outcome.built:
        console.print(f"report: {report_outcome.index}  (history: {paths.history})",
                      markup=False)
    else:
        console.print(f"report not built: {report_outcome.output[-2000:]}", markup=False)
    console.print(f"seed {state.seed} (replay with --seed {state.seed}); "
                  f"verdict: {VERDICTS.get(verdict, verdict)} (exit {verdict})", markup=False)
    return verdict


def _failures(paths: ReportPaths) -> list[tuple[str, str]]:
    """(category, test) for every failed or broken result, classified as the report does."""
    found = []
    for result in read_results(paths.results):
        status = str(result.get("status"))
        if status not in categories.ANY_FAILURE:
            continue
        details = result.get("statusDetails") or {}
        message = str(details.get("message", "")) if isinstance(details, dict) else ""
        category = categories.classify(status, message)
        found.append((category.name if category else status,
                      str(result.get("fullName") or result.get("name"))))
    return sorted(found)
