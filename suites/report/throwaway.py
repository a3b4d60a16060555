"""A throwaway pytest run with one planted failure per report category, and its report.

Why: the report's categories, attachments and parameters are only proven on a real report
built from real failures; planting them in the real suites would make the default run red,
so they run in a temporary directory (suites/report/planted/ holds the sources under names
pytest never collects) through the same reporting plugin and the same report builder as
``crashcart run``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from chaos.run import categories, report
from chaos.run.environment import write_environment, write_executor
from chaos.topology import REPO_ROOT

PLANTED = Path(__file__).with_name("planted")

EXPECTED: dict[str, categories.Category] = {
    "test_planted_infrastructure": categories.INFRASTRUCTURE,
    "test_planted_fault_left_behind": categories.FAULT_LEFT_BEHIND,
    "test_planted_saga_invariant": categories.SAGA_INVARIANT,
    "test_planted_slo_breach": categories.SLO_BREACH,
    "test_planted_server_error": categories.SERVER_ERROR,
    "test_planted_timeout": categories.TIMEOUT_OR_BREAKER,
    "test_planted_contract_drift": categories.CONTRACT_DRIFT,
}
"""Planted test → the category its real failure message must land in."""


@dataclass(frozen=True, slots=True)
class PlantedRun:
    work: Path
    paths: report.ReportPaths
    pytest_output: str
    outcome: report.ReportOutcome


def lay_out(work: Path) -> Path:
    """The throwaway project: its own rootdir (pytest.ini), conftest and test modules."""
    tests = work / "tests"
    tests.mkdir(parents=True, exist_ok=True)
    (work / "pytest.ini").write_text("[pytest]\naddopts = -p no:cacheprovider -p no:locust\n")
    shutil.copy(PLANTED / "conftest_planted.py", tests / "conftest.py")
    shutil.copy(PLANTED / "planted_failures.py", tests / "test_planted_failures.py")
    # First: the plugin checks for faults left behind when the next module starts.
    shutil.copy(PLANTED / "planted_faults.py", tests / "test_a_planted_faults.py")
    return tests


def run_planted(work: Path, *, history: Path | None = None, timeout_s: float = 180.0) -> PlantedRun:
    """Run the planted tests into ``work/results`` and build ``work/report`` from them."""
    tests = lay_out(work)
    paths = report.ReportPaths(results=work / "results", report=work / "report",
                               history=history or work / "history.jsonl")
    shutil.rmtree(paths.results, ignore_errors=True)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT),
                                                                      os.environ.get("PYTHONPATH")])),
           "PACT_DO_NOT_TRACK": "true", "CRASHCART_RUN_ID": "planted"}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", str(tests), f"--alluredir={paths.results}", "-q",
         "--color=no", "-rfE"],
        cwd=work, env=env, capture_output=True, text=True, timeout=timeout_s, check=False)
    write_environment(paths.results, {"run": "planted failures (suites/report)"})
    write_executor(paths.results, build_name="planted", build_order=1)
    report.write_categories(paths.results)
    configs = report.write_configs(paths, work / "config", name="Planted failures")
    outcome = report.generate(paths, configs, quality_gate=False)
    return PlantedRun(work=work, paths=paths, pytest_output=done.stdout + done.stderr,
                      outcome=outcome)
