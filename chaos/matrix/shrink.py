"""Shrink a failing fault schedule, delta-debugging style, while the same invariant fails.

The schedule is an experiment's method: phases of faults. Three passes, each keeping a
change only when the oracle still reports the target invariant failing:
1. fewer faults — ddmin (Zeller) over every (phase, fault) of the schedule;
2. fewer edges — ddmin over the edges of each remaining fault (patterns expanded first);
3. shorter windows — each phase's ``duration_s`` halved down to ``min_window_s``.
The oracle is any ``Experiment -> set of failing invariant names``: the real one runs the
experiment (:func:`experiment_oracle`); a test may use a fast planted one.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any, TypeVar

from chaos.experiments.model import Experiment, Phase

Oracle = Callable[[Experiment], set[str]]
T = TypeVar("T")


@dataclass(slots=True)
class Trial:
    what: str
    faults: int
    window_s: float
    failed: bool
    failing: list[str]


@dataclass(slots=True)
class ShrinkResult:
    invariant: str
    original: Experiment
    minimal: Experiment
    trials: list[Trial] = field(default_factory=list)

    def journal(self) -> dict[str, Any]:
        """A replayable journal: ``crashcart chaos replay`` reads ``experiment`` and ``seed``."""
        return {"title": self.minimal.title, "seed": self.minimal.seed, "status": "shrunk",
                "invariant": self.invariant, "experiment": self.minimal.to_dict(),
                "original_experiment": self.original.to_dict(),
                "faults_before": count_faults(self.original),
                "faults_after": count_faults(self.minimal),
                "trials": [dataclasses.asdict(t) for t in self.trials],
                "written_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}

    def write(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.journal(), indent=2, default=str))
        return path


def count_faults(experiment: Experiment) -> int:
    return sum(len(p.faults) for p in experiment.method)


def ddmin(items: Sequence[T], fails: Callable[[list[T]], bool]) -> list[T]:
    """Zeller's ddmin: a 1-minimal subset of ``items`` for which ``fails`` still holds."""
    current = list(items)
    granularity = 2
    while len(current) >= 2:
        size = max(1, len(current) // granularity)
        chunks = [current[i:i + size] for i in range(0, len(current), size)]
        reduced = False
        for chunk in chunks:                       # a single chunk alone
            if len(chunk) < len(current) and fails(chunk):
                current, granularity, reduced = chunk, 2, True
                break
        if not reduced:
            for index in range(len(chunks)):       # everything but one chunk
                rest = [x for j, c in enumerate(chunks) if j != index for x in c]
                if rest and len(rest) < len(current) and fails(rest):
                    current, granularity, reduced = rest, max(granularity - 1, 2), True
                    break
        if not reduced:
            if granularity >= len(current):
                break
            granularity = min(len(current), granularity * 2)
    return current


def _with_faults(experiment: Experiment, keep: list[tuple[int, int]]) -> Experiment:
    chosen = set(keep)
    method = []
    for p_index, phase in enumerate(experiment.method):
        faults = [copy.deepcopy(f) for f_index, f in enumerate(phase.faults)
                  if (p_index, f_index) in chosen]
        if faults:
            method.append(Phase(name=phase.name, faults=faults, duration_s=phase.duration_s,
                                ttl_s=phase.ttl_s, pause_after_s=phase.pause_after_s,
                                checkout=phase.checkout))
    clone = copy.deepcopy(experiment)
    clone.method = method
    return clone


def _expand_edges(edges: list[str], proxy_names: Sequence[str]) -> list[str]:
    out: list[str] = []
    for pattern in edges:
        matches = [n for n in proxy_names if fnmatchcase(n, pattern)] or [pattern]
        out.extend(m for m in matches if m not in out)
    return out


def shrink(experiment: Experiment, invariant: str, oracle: Oracle, *,
           proxy_names: Sequence[str] = (), min_window_s: float = 0.5,
           progress: Callable[[str], None] = lambda _: None) -> ShrinkResult:
    """Reduce ``experiment``'s schedule while ``invariant`` keeps failing under ``oracle``."""
    result = ShrinkResult(invariant=invariant, original=copy.deepcopy(experiment),
                          minimal=copy.deepcopy(experiment))

    def fails(candidate: Experiment, what: str) -> bool:
        failing = oracle(candidate) if candidate.method else set()
        window = sum(p.duration_s for p in candidate.method)
        hit = invariant in failing
        result.trials.append(Trial(what=what, faults=count_faults(candidate),
                                   window_s=window, failed=hit, failing=sorted(failing)))
        progress(f"trial {len(result.trials)}: {what}: {count_faults(candidate)} faults, "
                 f"{window:g}s -> {'still fails' if hit else 'passes'}")
        return hit

    if not fails(experiment, "original schedule"):
        raise ValueError(f"the original schedule does not fail {invariant!r}: nothing to shrink")
    # 1. fewer faults
    units = [(p, f) for p, phase in enumerate(experiment.method) for f in range(len(phase.faults))]
    keep = ddmin(units, lambda subset: fails(_with_faults(experiment, subset),
                                             f"faults {subset}"))
    current = _with_faults(experiment, keep)
    # 2. fewer edges per fault
    for phase in current.method:
        for spec in phase.faults:
            if "edges" not in spec:
                continue
            edges = _expand_edges(list(spec["edges"]), proxy_names)
            if len(edges) < 2:
                continue
            original_edges = spec["edges"]

            def fails_with(subset: list[str], target: dict[str, Any] = spec) -> bool:
                target["edges"] = list(subset)
                return fails(current, f"edges {subset} of {target['kind']}")

            if fails_with(edges):
                spec["edges"] = ddmin(edges, fails_with)
            else:
                spec["edges"] = original_edges
    # 3. shorter windows
    for phase in current.method:
        while phase.duration_s / 2 >= min_window_s:
            before = phase.duration_s
            phase.duration_s = round(before / 2, 3)
            if not fails(current, f"window of {phase.name!r} {phase.duration_s:g}s"):
                phase.duration_s = before
                break
    current.title = f"{experiment.title} (shrunk)"
    result.minimal = current.validate()
    return result


def experiment_oracle(run: Callable[[Experiment], dict[str, Any]]) -> Oracle:
    """The real oracle: run the experiment (``run`` returns its journal as JSON) and name the
    invariants that failed."""
    def oracle(experiment: Experiment) -> set[str]:
        journal = run(experiment)
        return {str(v["invariant"]) for v in journal.get("invariants") or [] if not v["ok"]}
    return oracle
