"""The JSON journal of one run: the experiment, its seed, every step with its timing, the
faults (applied, removed, by whom), the workload's figures, every verdict, the recovery."""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any


def iso(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).isoformat(timespec="milliseconds")


@dataclass(slots=True)
class Step:
    name: str
    kind: str
    started_at: str
    t_s: float
    """Seconds since the run started."""
    duration_s: float = 0.0
    ok: bool = True
    detail: Any = None


@dataclass(slots=True)
class Journal:
    title: str
    seed: int
    experiment: dict[str, Any]
    started: float = field(default_factory=time.time)
    ended: float | None = None
    status: str = "running"
    """completed | deviated | aborted (steady state not met) | failed | interrupted"""
    error: str = ""
    steps: list[Step] = field(default_factory=list)
    faults: list[dict[str, Any]] = field(default_factory=list)
    steady_state_before: dict[str, Any] = field(default_factory=dict)
    steady_state_after: dict[str, Any] = field(default_factory=dict)
    workload: dict[str, Any] = field(default_factory=dict)
    invariants: list[dict[str, Any]] = field(default_factory=list)
    recovery: dict[str, Any] = field(default_factory=dict)
    toxiproxy: dict[str, Any] = field(default_factory=dict)
    """Whether the Toxiproxy server's per-connection decisions follow ``seed`` (embedded: yes)."""

    def t(self, at: float | None = None) -> float:
        return round((at if at is not None else time.time()) - self.started, 3)

    @contextlib.contextmanager
    def step(self, name: str, kind: str) -> Iterator[Step]:
        """Time a step; an exception marks it failed (and propagates)."""
        now = time.time()
        entry = Step(name=name, kind=kind, started_at=iso(now), t_s=self.t(now))
        self.steps.append(entry)
        started = time.monotonic()
        try:
            yield entry
        except BaseException as exc:
            entry.ok = False
            entry.detail = entry.detail or f"{type(exc).__name__}: {exc}"
            raise
        finally:
            entry.duration_s = round(time.monotonic() - started, 3)

    @property
    def ok(self) -> bool:
        return self.status == "completed"

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["started_at"] = iso(self.started)
        data["ended_at"] = iso(self.ended) if self.ended else None
        data["duration_s"] = round((self.ended or time.time()) - self.started, 3)
        return data

    def write(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.as_json(), indent=2, default=str))
        return path
