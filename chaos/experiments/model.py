"""The declarative experiment: Python dataclasses and the equivalent YAML/JSON document.

The document is close to Chaos Toolkit's shape — ``title``, ``description``, ``tags``,
``configuration``, ``steady-state-hypothesis`` (probes), ``method`` (activities, here timed
fault phases), ``rollbacks`` — plus Crashcart's ``workload``, ``invariants`` and ``bounds``.
``Experiment.from_dict(e.to_dict()) == e`` for every experiment.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from chaos.faults.base import fault_from_spec
from chaos.invariants.base import INVARIANTS, Bounds

STEADY_PROBES = ("checkout_succeeds", "platform_ready")
ROLLBACK_ACTIONS = ("heal", "heal_faults", "reset_mesh", "heal_processes")
CHECKOUT_PHASES = ("", "before", "in_flight", "after")
"""Where a phase's faults fall relative to one tracked checkout: injected before it is
requested, right after it was accepted (its saga in flight), or once it is terminal."""
DEFAULT_INVARIANTS = ("recovery", "orders_complete", "payments_match_ledger", "stock_conserved",
                      "terminal_states_final", "outbox_drained", "dead_letters_accounted",
                      "no_unroutable_events", "api_fails_well")


class ExperimentError(ValueError):
    """The experiment document is malformed (message names the field)."""


@dataclass(slots=True)
class Workload:
    """The checkout workload through the gateway while faults are in force."""

    checkouts_per_s: float = 4.0
    workers: int = 3
    buyers: int = 3
    products: int = 3
    stock_per_product: int = 200
    scarce_stock: int = 3
    """One product gets only this much stock, so some orders end REJECTED."""
    declined_ratio: float = 0.2
    max_quantity: int = 2
    request_timeout_s: float = 15.0


@dataclass(slots=True)
class Phase:
    """One timed fault phase: ``faults`` applied together for ``duration_s``, then removed."""

    name: str
    faults: list[dict[str, Any]]
    duration_s: float
    ttl_s: float | None = None
    """Watchdog TTL of each fault (default: duration + 30 s)."""
    pause_after_s: float = 0.0
    checkout: str = ""
    """One of CHECKOUT_PHASES: a tracked checkout placed around the injection ("" = none)."""

    @property
    def effective_ttl_s(self) -> float:
        return self.ttl_s if self.ttl_s is not None else self.duration_s + 30.0


@dataclass(slots=True)
class Rollback:
    name: str
    action: str = "heal"


@dataclass(slots=True)
class SteadyState:
    title: str = "checkouts succeed and the platform is ready"
    probes: list[str] = field(default_factory=lambda: list(STEADY_PROBES))


@dataclass(slots=True)
class Experiment:
    title: str
    method: list[Phase]
    description: str = ""
    tags: list[str] = field(default_factory=list)
    seed: int = 0
    warmup_s: float = 2.0
    workload: Workload = field(default_factory=Workload)
    steady_state: SteadyState = field(default_factory=SteadyState)
    rollbacks: list[Rollback] = field(
        default_factory=lambda: [Rollback(name="heal every fault and component", action="heal")])
    invariants: list[str] = field(default_factory=lambda: list(DEFAULT_INVARIANTS))
    bounds: Bounds = field(default_factory=Bounds)

    def validate(self) -> Experiment:
        if not self.title:
            raise ExperimentError("title is required")
        if not self.method:
            raise ExperimentError("method needs at least one phase")
        for phase in self.method:
            if phase.duration_s <= 0:
                raise ExperimentError(f"phase {phase.name!r}: duration_s must be > 0")
            if phase.checkout not in CHECKOUT_PHASES:
                raise ExperimentError(f"phase {phase.name!r}: checkout must be one of "
                                      f"{', '.join(repr(c) for c in CHECKOUT_PHASES)}")
            for spec in phase.faults:
                try:
                    fault_from_spec(spec)
                except (TypeError, ValueError) as exc:
                    raise ExperimentError(f"phase {phase.name!r}: {exc}") from None
        for name in self.invariants:
            if name not in INVARIANTS:
                raise ExperimentError(f"unknown invariant {name!r} "
                                      f"(known: {', '.join(INVARIANTS)})")
        for probe in self.steady_state.probes:
            if probe not in STEADY_PROBES:
                raise ExperimentError(f"unknown steady-state probe {probe!r} "
                                      f"(known: {', '.join(STEADY_PROBES)})")
        for rollback in self.rollbacks:
            if rollback.action not in ROLLBACK_ACTIONS:
                raise ExperimentError(f"rollback {rollback.name!r}: unknown action "
                                      f"{rollback.action!r} (known: {', '.join(ROLLBACK_ACTIONS)})")
        return self

    # ---- the document form ---------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "description": self.description,
            "tags": list(self.tags),
            "configuration": {"seed": self.seed, "warmup_s": self.warmup_s},
            "workload": dataclasses.asdict(self.workload),
            "steady-state-hypothesis": {
                "title": self.steady_state.title,
                "probes": [{"type": "probe", "name": p} for p in self.steady_state.probes],
            },
            "method": [
                {"type": "action", "name": p.name, "faults": [dict(f) for f in p.faults],
                 "duration_s": p.duration_s, "ttl_s": p.ttl_s,
                 "pauses": {"after": p.pause_after_s},
                 **({"checkout": p.checkout} if p.checkout else {})}
                for p in self.method],
            "rollbacks": [{"type": "action", "name": r.name, "action": r.action}
                          for r in self.rollbacks],
            "invariants": list(self.invariants),
            "bounds": dataclasses.asdict(self.bounds),
        }

    @classmethod
    def from_dict(cls, doc: dict[str, Any]) -> Experiment:
        if not isinstance(doc, dict):
            raise ExperimentError("an experiment document is a mapping")
        config = dict(doc.get("configuration") or {})
        steady = dict(doc.get("steady-state-hypothesis") or {})
        try:
            experiment = cls(
                title=str(doc.get("title", "")),
                description=str(doc.get("description", "")),
                tags=[str(t) for t in doc.get("tags") or []],
                seed=int(config.get("seed", 0)),
                warmup_s=float(config.get("warmup_s", 2.0)),
                workload=Workload(**dict(doc.get("workload") or {})),
                steady_state=SteadyState(
                    title=str(steady.get("title", SteadyState().title)),
                    probes=[_name(p) for p in steady.get("probes", STEADY_PROBES)]),
                method=[_phase(item) for item in doc.get("method") or []],
                rollbacks=[Rollback(name=str(r.get("name", r.get("action", "heal"))),
                                    action=str(r.get("action", "heal")))
                           for r in doc.get("rollbacks") or [{"name": "heal", "action": "heal"}]],
                invariants=[str(n) for n in doc.get("invariants", DEFAULT_INVARIANTS)],
                bounds=Bounds(**dict(doc.get("bounds") or {})),
            )
        except TypeError as exc:
            raise ExperimentError(f"bad field: {exc}") from None
        return experiment.validate()


def _name(probe: Any) -> str:
    return str(probe["name"] if isinstance(probe, dict) else probe)


def _phase(item: dict[str, Any]) -> Phase:
    faults = list(item.get("faults") or ([item["fault"]] if "fault" in item else []))
    return Phase(name=str(item.get("name", "phase")), faults=[dict(f) for f in faults],
                 duration_s=float(item.get("duration_s", 0)),
                 ttl_s=None if item.get("ttl_s") is None else float(item["ttl_s"]),
                 pause_after_s=float(dict(item.get("pauses") or {}).get("after", 0.0)),
                 checkout=str(item.get("checkout", "")))


def load_experiment(path: str | Path) -> Experiment:
    """Read an experiment from ``.yaml``/``.yml``/``.json``."""
    source = Path(path)
    text = source.read_text()
    doc = json.loads(text) if source.suffix == ".json" else yaml.safe_load(text)
    try:
        return Experiment.from_dict(doc)
    except ExperimentError as exc:
        raise ExperimentError(f"{source}: {exc}") from None
