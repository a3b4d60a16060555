"""SLO gates: declarative limits per route, judged when a run ends (Locust has none).

Why: CI must fail when the platform gets slow or starts failing under load, and must not pass
by accident. So every limit in the gates file is one gate; a gate whose entry saw **no
samples fails** (a silent pass on no data is the known trap); and a run whose load generator
passed 90 % CPU (Locust's own ``cpu_warning``) is **invalid**: its latencies measure the
generator, so it is reported as neither passed nor failed.

Gates file (TOML, default ``load/slo.toml``)::

    [run]                                  # all requests together ("Aggregated")
    max_failure_ratio = 0.02
    min_rps = 2.0
    [checkout]
    accept_to_paid_p95_ms = 4000           # the saga: checkout accepted -> PAID seen
    [routes."GET /api/v1/orders/{id}"]     # "<METHOD> <route name>" as in the statistics
    p50_ms = 200
    p95_ms = 800
    p99_ms = 1500
    max_failure_ratio = 0.01
    min_rps = 0.5
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from load.samples import AGGREGATED, Sample
from load.session import SAGA, saga_entry

if TYPE_CHECKING:
    from locust.runners import Runner

DEFAULT_GATES_FILE = Path(__file__).with_name("slo.toml")
CHECKOUT_GATES_FILE = Path(__file__).with_name("slo_checkout.toml")
"""The gates of the checkout-only mix (CheckoutBuyer), for capacity runs."""
LIMITS = ("p50_ms", "p95_ms", "p99_ms", "max_failure_ratio", "min_rps")
LATENCY_LIMITS = ("p50_ms", "p95_ms", "p99_ms")
CHECKOUT_PAID = f"{SAGA} {saga_entry('PAID')}"
"""The statistics entry of checkout accepted → PAID."""

EXIT_PASSED, EXIT_BREACHED, EXIT_INVALID = 0, 1, 3
"""Process exit codes of a headless run: gates held / a gate breached / run invalid."""


class GatesFileError(ValueError):
    """The gates file is not what this module reads (unknown key, bad value)."""


class Verdict(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    INVALID = "invalid"


@dataclass(slots=True, frozen=True)
class Gate:
    """One limit on one statistics entry (``entry`` as ``"<METHOD> <name>"``)."""

    entry: str
    limit: str
    """One of LIMITS; ``*_ms`` and ``max_failure_ratio`` are upper bounds, ``min_rps`` lower."""
    value: float

    def observe(self, sample: Sample | None) -> float | None:
        if sample is None or not sample.num_requests:
            return None
        if self.limit in LATENCY_LIMITS:
            return sample.percentile_ms(int(self.limit[1:3]) / 100)
        if self.limit == "max_failure_ratio":
            return sample.failure_ratio
        return sample.rps

    def holds(self, observed: float) -> bool:
        return observed >= self.value if self.limit == "min_rps" else observed <= self.value

    def __str__(self) -> str:
        sign = ">=" if self.limit == "min_rps" else "<="
        return f"{self.entry}: {self.limit} {sign} {self.value:g}"


@dataclass(slots=True, frozen=True)
class GateResult:
    gate: Gate
    observed: float | None
    samples: int
    passed: bool
    reason: str


@dataclass(slots=True)
class GateReport:
    """The verdict of a run and every gate's result."""

    verdict: Verdict
    results: list[GateResult]
    cpu_saturated: bool = False
    notes: list[str] = field(default_factory=list)

    @property
    def breached(self) -> list[GateResult]:
        return [r for r in self.results if not r.passed]

    @property
    def exit_code(self) -> int:
        return {Verdict.PASSED: EXIT_PASSED, Verdict.FAILED: EXIT_BREACHED,
                Verdict.INVALID: EXIT_INVALID}[self.verdict]

    def table(self) -> str:
        lines = [f"SLO gates: {self.verdict.value.upper()}"
                 + (" (the load generator passed 90 % CPU: figures not trustworthy)"
                    if self.cpu_saturated else ""),
                 "| gate | observed | samples | result |", "|---|---:|---:|---|"]
        for r in self.results:
            observed = "-" if r.observed is None else f"{r.observed:.3g}"
            lines.append(f"| {r.gate} | {observed} | {r.samples} | "
                         f"{'ok' if r.passed else 'BREACH: ' + r.reason} |")
        lines.extend(self.notes)
        return "\n".join(lines)

    def to_json(self) -> str:
        return json.dumps({
            "verdict": self.verdict.value, "cpu_saturated": self.cpu_saturated,
            "notes": self.notes,
            "results": [{**asdict(r.gate), "observed": r.observed, "samples": r.samples,
                         "passed": r.passed, "reason": r.reason} for r in self.results],
        }, indent=2)


def parse_gates(raw: Mapping[str, Any]) -> list[Gate]:
    """Gates from the TOML tables ``run``, ``checkout`` and ``routes``."""
    unknown = set(raw) - {"run", "checkout", "routes"}
    if unknown:
        raise GatesFileError(f"unknown tables {sorted(unknown)} (known: run, checkout, routes)")
    gates = _limits(AGGREGATED, raw.get("run", {}))
    checkout = dict(raw.get("checkout", {}))
    if "accept_to_paid_p95_ms" in checkout:
        gates.append(Gate(CHECKOUT_PAID, "p95_ms", _number(checkout.pop(
            "accept_to_paid_p95_ms"), "checkout.accept_to_paid_p95_ms")))
    if checkout:
        raise GatesFileError(f"unknown keys in [checkout]: {sorted(checkout)}")
    for entry, limits in dict(raw.get("routes", {})).items():
        if " " not in entry:
            raise GatesFileError(f"route {entry!r}: write it as '<METHOD> <route name>'")
        gates.extend(_limits(entry, limits))
    return gates


def load_gates(path: str | Path | None = None) -> list[Gate]:
    source = Path(path) if path else DEFAULT_GATES_FILE
    try:
        raw = tomllib.loads(source.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise GatesFileError(f"{source}: {exc}") from exc
    try:
        return parse_gates(raw)
    except GatesFileError as exc:
        raise GatesFileError(f"{source}: {exc}") from exc


def evaluate(gates: list[Gate], samples: Mapping[str, Sample], *,
             cpu_saturated: bool = False) -> GateReport:
    """Judge a run: every gate against its entry; no samples is a breach; CPU → invalid."""
    results = []
    for gate in gates:
        sample = samples.get(gate.entry)
        count = sample.num_requests if sample else 0
        observed = gate.observe(sample)
        if observed is None:
            results.append(GateResult(gate, None, count, False, "no samples"))
        else:
            ok = gate.holds(observed)
            results.append(GateResult(gate, observed, count, ok,
                                      "" if ok else f"observed {observed:.3g}"))
    if not gates:
        results.append(GateResult(Gate(AGGREGATED, "min_rps", 0.0), None, 0, False,
                                  "no gates declared"))
    verdict = Verdict.PASSED if all(r.passed for r in results) else Verdict.FAILED
    if cpu_saturated:
        verdict = Verdict.INVALID
    return GateReport(verdict, results, cpu_saturated)


def generator_saturated(runner: Runner) -> bool:
    """Locust's own verdict: its CPU monitor warned (> 90 %) on this node or on a worker."""
    return bool(runner.cpu_warning_emitted
                or getattr(runner, "worker_cpu_warning_emitted", False))


def window_gates(gates: list[Gate]) -> list[Gate]:
    """The gates that judge a short window too (latency and failures, not rates)."""
    return [g for g in gates if g.limit != "min_rps"]


def holds_in_window(gates: list[Gate], samples: Mapping[str, Sample]) -> bool:
    """Whether a window meets the SLO: every window gate with samples in it holds.

    Unlike a run, a window may lack an entry (a second without a declined checkout); such a
    gate is not judged, but a window with no requests at all does not hold.
    """
    return not window_breaches(gates, samples)


def window_breaches(gates: list[Gate], samples: Mapping[str, Sample]) -> list[str]:
    """What breaks the SLO in a window (empty: it holds); see ``holds_in_window``."""
    total = samples.get(AGGREGATED)
    if total is None or not total.num_requests:
        return ["no requests"]
    breaches = []
    for gate in window_gates(gates):
        observed = gate.observe(samples.get(gate.entry))
        if observed is not None and not gate.holds(observed):
            breaches.append(f"{gate} (observed {observed:.3g})")
    return breaches


def _limits(entry: str, table: Any) -> list[Gate]:
    if not isinstance(table, Mapping):
        raise GatesFileError(f"{entry!r}: expected a table of limits")
    unknown = set(table) - set(LIMITS)
    if unknown:
        raise GatesFileError(f"{entry!r}: unknown limits {sorted(unknown)} (known: {LIMITS})")
    return [Gate(entry, name, _number(table[name], f"{entry}.{name}"))
            for name in LIMITS if name in table]


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise GatesFileError(f"{where}: expected a number >= 0, got {value!r}")
    return float(value)
