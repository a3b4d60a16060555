"""Seeded replay: a journal (of an experiment, a matrix cell, or a shrunk schedule) holds the
whole experiment document — its seed and its fault schedule — so it runs again exactly."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chaos.experiments.model import Experiment


@dataclass(slots=True)
class Recorded:
    experiment: Experiment
    status: str
    failed_invariants: list[str]
    """For a shrunk journal: the one invariant it was shrunk for."""


def load_journal(path: str | Path) -> Recorded:
    doc: dict[str, Any] = json.loads(Path(path).read_text())
    if "experiment" not in doc:
        raise ValueError(f"{path}: not a journal (no 'experiment' document)")
    experiment = Experiment.from_dict(doc["experiment"])
    experiment.seed = int(doc.get("seed", experiment.seed))
    if doc.get("status") == "shrunk":
        failed = [str(doc["invariant"])]
    else:
        failed = [str(v["invariant"]) for v in doc.get("invariants") or [] if not v.get("ok")]
    return Recorded(experiment=experiment, status=str(doc.get("status", "")),
                    failed_invariants=failed)


def same_outcome(recorded: Recorded, replayed: dict[str, Any]) -> bool:
    """The replay fails the same way: every invariant that failed fails again (and a run
    that completed completes again)."""
    failed = {str(v["invariant"]) for v in replayed.get("invariants") or [] if not v["ok"]}
    if recorded.status == "completed":
        return replayed.get("status") == "completed"
    if recorded.failed_invariants:
        return set(recorded.failed_invariants) <= failed
    return replayed.get("status") == recorded.status
