"""Load under a fault: a named fault applied at a time for a window, and what it did.

Why: resilience is judged under load, not on an idle platform. A run applies one fault from
``chaos.faults`` (latency or another toxic on an edge, a proxy down) or a process fault (a
service paused) at ``at_s`` for ``for_s`` seconds, always undone, and reports the error rate
and latency before, during and after it, the **recovery time** (from the fault's removal
until a window of the run meets the SLO again), and the business checks once drained.

Fault names: ``<proxy>:latency:<ms>``, ``<proxy>:timeout:<ms>``, ``<proxy>:bandwidth:<KB/s>``,
``<proxy>:reset_peer``, ``<proxy>:down``, ``<service>:pause``
(e.g. ``order_to_product:latency:800``, ``product_to_db:down``, ``payment:pause``).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import gevent

from chaos.faults import connect, proxy_down, toxic
from chaos.topology import Topology
from load.business import BusinessReport, check_business
from load.engine import LoadPlan, LoadResult, run_load
from load.gates import CHECKOUT_PAID, Gate, holds_in_window, load_gates
from load.samples import AGGREGATED, Sample, Snapshot

if TYPE_CHECKING:
    from locust.env import Environment

    from chaos.backends.local import LocalBackend

TOXICS = {"latency": "latency", "timeout": "timeout", "bandwidth": "rate"}
"""Fault kind → the Toxiproxy attribute its amount sets."""
KINDS = (*TOXICS, "reset_peer", "down", "pause")
RECOVERY_WINDOW_S = 3.0
"""A window this long must meet the SLO for the platform to count as recovered."""


class FaultSpecError(ValueError):
    pass


@dataclass(slots=True, frozen=True)
class FaultSpec:
    """A named fault: ``target`` (a proxy or a service), ``kind``, optional ``amount``."""

    target: str
    kind: str
    amount: float | None = None

    @classmethod
    def parse(cls, text: str, topology: Topology) -> FaultSpec:
        parts = text.split(":")
        if len(parts) not in (2, 3) or parts[1] not in KINDS:
            raise FaultSpecError(f"fault {text!r}: expected <target>:<kind>[:<amount>] with "
                                 f"kind one of {', '.join(KINDS)}")
        target, kind = parts[0], parts[1]
        amount = None
        if kind in TOXICS:
            if len(parts) != 3:
                raise FaultSpecError(f"fault {text!r}: {kind} needs an amount")
            try:
                amount = float(parts[2])
            except ValueError:
                raise FaultSpecError(f"fault {text!r}: {parts[2]!r} is not a number") from None
        elif len(parts) == 3:
            raise FaultSpecError(f"fault {text!r}: {kind} takes no amount")
        known = topology.services if kind == "pause" else topology.proxy_names
        if target not in known:
            raise FaultSpecError(f"fault {text!r}: unknown {'service' if kind == 'pause' else 'proxy'} "
                                 f"{target!r} (known: {', '.join(known)})")
        return cls(target, kind, amount)

    def __str__(self) -> str:
        amount = "" if self.amount is None else f":{self.amount:g}"
        return f"{self.target}:{self.kind}{amount}"

    @contextmanager
    def applied(self, toxiproxy_url: str, backend: LocalBackend | None) -> Iterator[None]:
        """The fault in force for the block, always undone."""
        if self.kind == "pause":
            if backend is None:
                raise FaultSpecError("a process fault needs the platform's backend (state dir)")
            backend.pause_service(self.target)
            try:
                yield
            finally:
                backend.resume_service(self.target)
            return
        client = connect(toxiproxy_url)
        if self.kind == "down":
            with proxy_down(client, self.target):
                yield
            return
        attributes: dict[str, Any] = {}
        if self.kind in TOXICS:
            attributes[TOXICS[self.kind]] = int(self.amount or 0)
        with toxic(client, self.target, self.kind, name=f"load_{self.kind}", **attributes):
            yield


@dataclass(slots=True)
class Phase:
    """The whole-platform figures of one phase of the run."""

    name: str
    seconds: float
    requests: int
    error_ratio: float | None
    p50_ms: float | None
    p95_ms: float | None
    checkouts_paid: int
    """Checkouts that reached PAID within the phase."""
    checkout_p95_ms: float | None
    """The checkout's accept → PAID p95 of the sagas that completed within the phase."""

    @classmethod
    def of(cls, name: str, window: dict[str, Sample]) -> Phase:
        total, paid = window.get(AGGREGATED, Sample()), window.get(CHECKOUT_PAID, Sample())
        return cls(name, total.duration_s, total.num_requests, total.failure_ratio,
                   total.percentile_ms(0.5), total.percentile_ms(0.95),
                   paid.num_requests - paid.num_failures, paid.percentile_ms(0.95))


@dataclass(slots=True)
class FaultRunReport:
    fault: str
    at_s: float
    for_s: float
    phases: list[Phase]
    recovery_s: float | None
    """Seconds from the fault's removal until a window met the SLO (None: not in the run)."""
    business: BusinessReport | None
    load: LoadResult
    notes: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return self.recovery_s is not None and (self.business is None or self.business.passed)

    def table(self) -> str:
        lines = [f"load under fault {self.fault} from {self.at_s:g} s for {self.for_s:g} s",
                 "| phase | s | requests | error ratio | p50 ms | p95 ms | checkouts PAID | "
                 "accept→PAID p95 ms |", "|---|---:|---:|---:|---:|---:|---:|---:|"]
        for p in self.phases:
            lines.append(f"| {p.name} | {p.seconds:.1f} | {p.requests} | {_fmt(p.error_ratio)} "
                         f"| {_fmt(p.p50_ms)} | {_fmt(p.p95_ms)} | {p.checkouts_paid} | "
                         f"{_fmt(p.checkout_p95_ms)} |")
        lines.append("recovery time (fault removed → SLO holds again over "
                     f"{RECOVERY_WINDOW_S:g} s): "
                     + (f"{self.recovery_s:.1f} s" if self.recovery_s is not None
                        else "not recovered within the run"))
        lines.extend(self.notes)
        if self.business is not None:
            lines.append(self.business.table())
        return "\n".join(lines)


def run_under_fault(plan: LoadPlan, spec: FaultSpec, *, at_s: float, for_s: float,
                    topology: Topology, toxiproxy_url: str, backend: LocalBackend | None,
                    gates: list[Gate] | None = None, business: bool = True,
                    drain_timeout_s: float = 90.0) -> FaultRunReport:
    """Run ``plan`` with ``spec`` in force from ``at_s`` to ``at_s + for_s``, then judge it."""
    if at_s + for_s + RECOVERY_WINDOW_S > plan.run_time_s:
        raise FaultSpecError(f"run_time {plan.run_time_s:g} s leaves no time to recover after "
                             f"the fault ends at {at_s + for_s:g} s")
    gates = gates if gates is not None else (plan.gates or load_gates())
    marks: dict[str, float] = {}

    def schedule(_: Environment, started_at: float) -> None:
        gevent.sleep(max(0.0, started_at + at_s - time.monotonic()))
        with spec.applied(toxiproxy_url, backend):
            marks["applied"] = time.monotonic()
            gevent.sleep(for_s)
        marks["removed"] = time.monotonic()

    result = run_load(plan, during=schedule)
    report = FaultRunReport(str(spec), at_s, for_s, [], None, None, result)
    if "removed" not in marks:
        report.notes.append("the fault did not complete its window within the run")
        return report
    timeline = result.timeline
    start = timeline[0]
    applied, removed = _at(timeline, marks["applied"]), _at(timeline, marks["removed"])
    end = timeline[-1]
    report.phases = [Phase.of(name, later.since(earlier))
                     for name, earlier, later in (("before", start, applied),
                                                  ("during", applied, removed),
                                                  ("after", removed, end))]
    report.recovery_s = recovery_time(timeline, marks["removed"], gates)
    if business:
        report.business = check_business(topology, result.catalog,
                                         drain_timeout_s=drain_timeout_s)
    return report


def recovery_time(timeline: list[Snapshot], removed_at: float, gates: list[Gate]) -> float | None:
    """First window start after ``removed_at`` whose next RECOVERY_WINDOW_S meet the SLO."""
    for index, begin in enumerate(timeline):
        if begin.at < removed_at - 0.5:
            continue
        end = next((s for s in timeline[index:] if s.at >= begin.at + RECOVERY_WINDOW_S), None)
        if end is None:
            return None
        if holds_in_window(gates, end.since(begin)):
            return max(0.0, begin.at - removed_at)
    return None


def _at(timeline: list[Snapshot], moment: float) -> Snapshot:
    """The snapshot closest to ``moment``."""
    return min(timeline, key=lambda s: abs(s.at - moment))


def _fmt(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.0f}" if abs(value) >= 100 else f"{value:.3g}"
