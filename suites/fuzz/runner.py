"""Run the Schemathesis CLI (`st run`) as a subprocess and collect its reports.

A subprocess keeps Schemathesis' own engine, phases and failure de-duplication (the CLI finds
every failure of a run; pytest mode stops at the first per operation) and decouples it from
this pytest process (its pytest plugin's `from_fixture` is broken under pytest 9).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CONFIG_FILE = Path(__file__).with_name("schemathesis.toml")


@dataclass(frozen=True, slots=True)
class StRun:
    """The outcome of one `st run`: exit code, console output and the JSON run report."""

    command: list[str]
    exit_code: int
    output: str
    report: dict[str, Any]
    report_dir: Path
    seconds: float

    @property
    def failures(self) -> list[Any]:
        return list(self.report.get("failures", [])) + list(self.report.get("errors", []))

    @property
    def warnings(self) -> dict[str, list[str]]:
        """Warnings the run raised, by name (empty ones left out)."""
        return {name: ops for name, ops in self.report.get("warnings", {}).items() if ops}

    @property
    def tested_operations(self) -> int:
        return int(self.report.get("operations", {}).get("tested", 0))

    def phase_status(self, phase: str) -> str | None:
        return self.report.get("phases", {}).get(phase, {}).get("status")

    def report_file(self, name: str) -> Path:
        return self.report_dir / name


def st_executable() -> str:
    """The `st` script of the interpreter running the tests (the project venv)."""
    beside = Path(sys.executable).with_name("st")
    found = str(beside) if beside.exists() else shutil.which("st")
    if found is None:
        raise RuntimeError("the Schemathesis CLI `st` is not installed in this environment")
    return found


def run_schemathesis(
    *,
    schema_url: str,
    base_url: str,
    wfc_file: Path,
    user: str,
    max_examples: int,
    work_dir: Path,
    include_operation_ids: Sequence[str] = (),
    exclude_tags: Sequence[str] = (),
    timeout_s: float = 240.0,
    hooks: str = "chaos.fuzz.hooks_integers",
    extra_env: dict[str, str] | None = None,
    extra_args: Sequence[str] = (),
    config_file: Path = CONFIG_FILE,
) -> StRun:
    """`st run` with every check against `base_url`, reports (junit, json, vcr) in work_dir.

    `hooks` names an importable hooks module (SCHEMATHESIS_HOOKS), e.g. chaos.fuzz.hooks_catalog;
    every one of chaos/fuzz registers hooks_integers (the platform's one integer spelling).
    """
    report_dir = work_dir / "reports"
    command = [
        st_executable(), "--config-file", str(config_file), "run", schema_url,
        "--url", base_url,
        "--checks", "all",
        "--max-examples", str(max_examples),
        "--report", "junit,json,vcr", "--report-dir", str(report_dir),
        "--report-junit-path", str(report_dir / "junit.xml"),
        "--report-json-path", str(report_dir / "report.json"),
        "--report-vcr-path", str(report_dir / "cassette.yaml"),
    ]
    for operation_id in include_operation_ids:
        command += ["--include-operation-id", operation_id]
    for tag in exclude_tags:
        command += ["--exclude-tag", tag]
    command += list(extra_args)
    env = {**os.environ, "CRASHCART_FUZZ_WFC": str(wfc_file), "CRASHCART_FUZZ_USER": user,
           "NO_COLOR": "1", "COLUMNS": "120", **(extra_env or {})}
    env["SCHEMATHESIS_HOOKS"] = hooks
    started = time.monotonic()
    # cwd: Schemathesis writes crash files and caches under the working directory.
    done = subprocess.run(command, cwd=work_dir, env=env, capture_output=True, text=True,
                          timeout=timeout_s, check=False)
    seconds = time.monotonic() - started
    report_path = report_dir / "report.json"
    report = json.loads(report_path.read_text(encoding="utf-8")) if report_path.exists() else {}
    return StRun(command=command, exit_code=done.returncode,
                 output=done.stdout + (f"\n--- stderr ---\n{done.stderr}" if done.stderr else ""),
                 report=report, report_dir=report_dir, seconds=seconds)
