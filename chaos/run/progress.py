"""Live counts of a layer's pytest run, written by a tiny pytest plugin, read by the
orchestrator.

Why: the terminal shows passed/failed so far while a layer runs, without parsing pytest's
console output (which layers may change with ``-q``/``-v`` or plugins). The plugin is loaded
into the layer's pytest process with ``-p chaos.run.progress`` and appends one JSON line per
event to ``$CRASHCART_RUN_PROGRESS``.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

ENV_FILE = "CRASHCART_RUN_PROGRESS"
OUTCOMES = ("passed", "failed", "error", "skipped", "xfailed", "xpassed")


def _emit(record: dict[str, Any]) -> None:
    path = os.environ.get(ENV_FILE)
    if not path:
        return
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(record) + "\n")


def pytest_collection_finish(session: pytest.Session) -> None:
    _emit({"collected": len(session.items)})


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    outcome = _outcome(report)
    if outcome is not None:
        _emit({"nodeid": report.nodeid, "outcome": outcome, "when": report.when})


def _outcome(report: pytest.TestReport) -> str | None:
    """One outcome per test: the call's, or a setup that did not get that far, or a
    teardown error (counted on top, as pytest does)."""
    if hasattr(report, "wasxfail"):
        if report.when == "call" or report.skipped:
            return "xfailed" if report.skipped else "xpassed"
        return None
    if report.when == "call":
        return str(report.outcome)
    if report.when == "setup" and not report.passed:
        return "skipped" if report.skipped else "error"
    if report.when == "teardown" and report.failed:
        return "error"
    return None


@dataclass(slots=True)
class Counts:
    """What a progress file said so far; ``refresh`` reads only the new lines."""

    path: Path
    collected: int = 0
    outcomes: dict[str, int] = field(default_factory=lambda: dict.fromkeys(OUTCOMES, 0))
    current: str = ""
    _offset: int = 0

    def refresh(self) -> Counts:
        try:
            with open(self.path, "rb") as handle:
                handle.seek(self._offset)
                chunk = handle.read()
        except FileNotFoundError:
            return self
        end = chunk.rfind(b"\n")
        if end < 0:
            return self
        self._offset += end + 1
        for line in chunk[:end].decode("utf-8", errors="replace").splitlines():
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if "collected" in record:
                self.collected += int(record["collected"])
            elif record.get("outcome") in self.outcomes:
                self.outcomes[record["outcome"]] += 1
                self.current = str(record.get("nodeid", ""))
        return self

    @property
    def done(self) -> int:
        return sum(self.outcomes.values())

    @property
    def failed(self) -> int:
        return self.outcomes["failed"] + self.outcomes["error"] + self.outcomes["xpassed"]

    @property
    def passed(self) -> int:
        return self.outcomes["passed"] + self.outcomes["xfailed"]
