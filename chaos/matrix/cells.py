"""The cells of the fault matrix: every edge × every network fault × every checkout phase,
plus every process fault of every service × phase; and the covering selection of the
default tier (every edge, every fault, every phase and every service at least once).

A cell becomes an ordinary :class:`~chaos.experiments.Experiment` (one timed phase), so it
runs, journals, replays and shrinks like any experiment.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import Any

from chaos.experiments.model import DEFAULT_INVARIANTS, Experiment, Phase, Workload
from chaos.matrix.timeouts import caller_timeout_s
from chaos.topology import BROKER, DB, GATEWAY, EdgeSpec, Topology

PHASES = ("before", "in_flight", "after")
NETWORK_FAULTS = ("down", "latency_below", "latency_above", "timeout", "reset_peer",
                  "limit_data", "bandwidth_zero", "slicer")
PROCESS_FAULTS = ("kill", "pause", "restart")
BASE_WINDOW_S = 2.0
"""Long enough for the tracked checkout's saga, ~6 workload checkouts and 4 route probes."""
SETTLE_S = 0.75
"""Margin past the latency or timeout for the answer (or the caller's give-up) to arrive."""


@dataclass(frozen=True, slots=True)
class Cell:
    """One cell: ``target`` is an edge (``order_to_db``) or a service (``payment``)."""

    target: str
    fault: str
    phase: str
    spec: tuple[tuple[str, Any], ...]
    """The fault unit's spec (``{"kind": ...}``) as sorted items, so a cell is hashable."""
    window_s: float
    edge_kind: str
    """gateway | service | db | broker | process."""
    caller_timeout_s: float | None = None

    @property
    def id(self) -> str:
        return f"{self.target}:{self.fault}@{self.phase}"

    @property
    def fault_spec(self) -> dict[str, Any]:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in self.spec}

    def seed(self, base_seed: int, repeat: int = 0) -> int:
        """A stable seed per cell and repetition (CRC32 of the id, so never Python's hash)."""
        return (base_seed * 1_000_003 + zlib.crc32(self.id.encode()) + repeat) % 2**31

    def experiment(self, base_seed: int, repeat: int = 0) -> Experiment:
        invariants = list(DEFAULT_INVARIANTS)
        if self.fault == "down" and self.edge_kind in ("db", "broker"):
            invariants.append("readiness_truthful")
        return Experiment(
            title=f"matrix cell {self.id}",
            description=f"{self.fault} on {self.target} {self.phase.replace('_', ' ')} a "
                        f"checkout" + (f" (caller timeout {self.caller_timeout_s:g} s)"
                                       if self.caller_timeout_s is not None else ""),
            tags=["matrix", self.fault, self.phase, self.edge_kind],
            seed=self.seed(base_seed, repeat), warmup_s=0.5,
            workload=Workload(checkouts_per_s=3, workers=2, buyers=2, products=2),
            method=[Phase(name=self.id, faults=[self.fault_spec], duration_s=self.window_s,
                          ttl_s=self.window_s + 30.0, checkout=self.phase)],
            invariants=invariants,
        ).validate()


def _edge_kind(edge: EdgeSpec) -> str:
    if edge.source == GATEWAY:
        return "gateway"
    return {DB: "db", BROKER: "broker"}.get(edge.target, "service")


def _network_spec(fault: str, edge: str, timeout_s: float) -> tuple[dict[str, Any], float]:
    """The fault unit for ``fault`` on ``edge`` and how long its window lasts.

    Windows are as short as the fault allows and derived from the caller's timeout ``T``:
    a latency of ``T/2`` needs ``T/2 + SETTLE_S`` for a call made at the window's start to
    come back through it; a latency of ``1.5 T`` and a ``timeout`` toxic at ``T`` need
    ``T + SETTLE_S`` for that call to run into the caller's timeout. Every other fault acts
    on the first byte, so the base window (several checkouts and route probes) is enough.
    """
    edges = (edge,)
    if fault == "down":
        return {"kind": "proxy_down", "edges": edges}, BASE_WINDOW_S
    if fault == "latency_below":
        return {"kind": "latency", "edges": edges, "latency_ms": int(timeout_s * 500)}, \
            max(BASE_WINDOW_S, timeout_s / 2 + SETTLE_S)
    if fault == "latency_above":
        return {"kind": "latency", "edges": edges, "latency_ms": int(timeout_s * 1500)}, \
            max(BASE_WINDOW_S, timeout_s + SETTLE_S)
    if fault == "timeout":
        return {"kind": "timeout", "edges": edges, "timeout_ms": int(timeout_s * 1000)}, \
            max(BASE_WINDOW_S, timeout_s + SETTLE_S)
    if fault == "reset_peer":
        return {"kind": "reset_peer", "edges": edges, "timeout_ms": 0}, BASE_WINDOW_S
    if fault == "limit_data":
        return {"kind": "limit_data", "edges": edges, "limit_bytes": 2048}, BASE_WINDOW_S
    if fault == "bandwidth_zero":
        return {"kind": "bandwidth", "edges": edges, "rate_kb_per_s": 1}, BASE_WINDOW_S
    if fault == "slicer":
        return {"kind": "slicer", "edges": edges, "average_size_bytes": 16,
                "size_variation_bytes": 8, "delay_us": 1000}, BASE_WINDOW_S
    raise ValueError(f"unknown network fault {fault!r} (known: {', '.join(NETWORK_FAULTS)})")


def _frozen(spec: dict[str, Any]) -> tuple[tuple[str, Any], ...]:
    return tuple(sorted((k, tuple(v) if isinstance(v, list | tuple) else v)
                        for k, v in spec.items()))


def network_cell(topology: Topology, edge: EdgeSpec, fault: str, phase: str) -> Cell:
    timeout_s = caller_timeout_s(topology, edge)
    spec, window_s = _network_spec(fault, edge.name, timeout_s)
    return Cell(target=edge.name, fault=fault, phase=phase, spec=_frozen(spec),
                window_s=window_s, edge_kind=_edge_kind(edge), caller_timeout_s=timeout_s)


def process_cell(service: str, fault: str, phase: str) -> Cell:
    return Cell(target=service, fault=fault, phase=phase,
                spec=_frozen({"kind": fault, "service": service}), window_s=BASE_WINDOW_S,
                edge_kind="process")


def full_matrix(topology: Topology) -> list[Cell]:
    """Every cell: edges × network faults × phases, then services × process faults × phases."""
    cells = [network_cell(topology, edge, fault, phase)
             for edge in topology.edges for fault in NETWORK_FAULTS for phase in PHASES]
    cells += [process_cell(service, fault, phase)
              for service in topology.services for fault in PROCESS_FAULTS for phase in PHASES]
    return cells


def covering_matrix(topology: Topology) -> list[Cell]:
    """The default tier: every edge once, every fault at least once, phases rotated.

    Faults go round-robin; each takes the cheapest uncovered edge (a latency above a 2 s
    service timeout costs a 2.75 s window, above the gateway's 10 s one 10.75 s), ties
    broken towards the edge kind used least so far, so every kind meets several faults.
    """
    remaining = list(topology.edges)
    used_kinds: dict[str, int] = {}
    cells: list[Cell] = []
    index = 0
    while remaining:
        fault = NETWORK_FAULTS[index % len(NETWORK_FAULTS)]
        phase = PHASES[index % len(PHASES)]
        candidates = [network_cell(topology, edge, fault, phase) for edge in remaining]
        best = min(enumerate(candidates), key=lambda pair: (
            round(pair[1].window_s), used_kinds.get(pair[1].edge_kind, 0), pair[0]))[1]
        cells.append(best)
        used_kinds[best.edge_kind] = used_kinds.get(best.edge_kind, 0) + 1
        remaining = [e for e in remaining if e.name != best.target]
        index += 1
    for offset, service in enumerate(topology.services):
        cells.append(process_cell(service, PROCESS_FAULTS[offset % len(PROCESS_FAULTS)],
                                  PHASES[(index + offset) % len(PHASES)]))
    return cells


def select(cells: list[Cell], patterns: list[str]) -> list[Cell]:
    """Cells whose id matches any shell pattern (``*_to_db:*``, ``payment:kill@*``)."""
    from fnmatch import fnmatchcase

    if not patterns:
        return cells
    return [c for c in cells if any(fnmatchcase(c.id, p) for p in patterns)]
