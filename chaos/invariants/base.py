"""The invariant interface, the context a check reads, its verdict, and the registry.

An invariant is a small unit with a ``name``, a one-line ``guards`` and the list of what it
``reads``; ``check(ctx)`` returns a :class:`Verdict` whose ``breaches`` each name what
breaks it (an order id, a product, a queue, a request) — the evidence a reader needs.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

from chaos.invariants.sources import MissingSource, Sources
from chaos.topology import Topology

TERMINAL = ("PAID", "PAYMENT_FAILED", "REJECTED")
MAX_EVIDENCE = 40


@dataclass(slots=True, frozen=True)
class AcceptedOrder:
    """An order the workload saw accepted (202/200) through the gateway."""

    order_id: int
    user_id: int
    idempotency_key: str
    accepted_at: float


@dataclass(slots=True)
class Scope:
    """What the check is about: ``None`` means every row of the databases."""

    accepted: tuple[AcceptedOrder, ...] = ()
    order_ids: tuple[int, ...] | None = None
    product_ids: tuple[int, ...] | None = None


@dataclass(slots=True)
class Bounds:
    """Time bounds (seconds) the platform is held to."""

    terminal_within_s: float = 60.0
    """Every accepted order is terminal this long after the faults cleared."""
    drain_within_s: float = 30.0
    settle_s: float = 20.0
    """Cross-database facts (order status vs ledger) may lag by this much."""
    recovery_within_s: float = 60.0
    api_budget_s: float = 12.0
    """The gateway's read timeout (10 s) plus margin: slower is a hang."""
    readiness_detect_s: float = 6.0
    readiness_recover_s: float = 20.0


@dataclass(slots=True)
class HttpSample:
    method: str
    path: str
    status: int
    """0 when no answer came (transport error or client timeout)."""
    elapsed_s: float
    at: float
    content_type: str = ""
    error: str = ""


@dataclass(slots=True)
class ReadinessSample:
    at: float
    target: str
    """A service name, or ``gateway``."""
    status: int
    body: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class FaultWindow:
    description: str
    applied_at: float
    removed_at: float | None
    cuts: tuple[str, ...] = ()
    """Proxies this fault cut (``<svc>_to_db``...): readiness must notice."""


@dataclass(slots=True)
class CheckContext:
    topology: Topology
    sources: Sources
    scope: Scope = field(default_factory=Scope)
    bounds: Bounds = field(default_factory=Bounds)
    baseline: dict[str, Any] = field(default_factory=dict)
    samples: list[HttpSample] = field(default_factory=list)
    readiness: list[ReadinessSample] = field(default_factory=list)
    windows: list[FaultWindow] = field(default_factory=list)
    faults_cleared_at: float | None = None
    checkout_probe: Callable[[float], bool] | None = None
    """Place one fresh checkout and wait at most the given seconds for it to be PAID."""

    @property
    def cleared_at(self) -> float:
        return self.faults_cleared_at if self.faults_cleared_at is not None else time.time()


@dataclass(slots=True)
class Verdict:
    invariant: str
    ok: bool
    breaches: list[str] = field(default_factory=list)
    reads: tuple[str, ...] = ()
    details: dict[str, Any] = field(default_factory=dict)
    elapsed_s: float = 0.0

    def as_json(self) -> dict[str, Any]:
        return {"invariant": self.invariant, "ok": self.ok, "breaches": self.breaches,
                "reads": list(self.reads), "details": self.details,
                "elapsed_s": round(self.elapsed_s, 3)}


class Invariant(Protocol):
    name: ClassVar[str]
    guards: ClassVar[str]
    reads: ClassVar[tuple[str, ...]]

    def evaluate(self, ctx: CheckContext) -> tuple[list[str], dict[str, Any]]: ...


INVARIANTS: dict[str, Invariant] = {}


def register(cls: type[Any]) -> type[Any]:
    INVARIANTS[cls.name] = cls()
    return cls


def check(name: str, ctx: CheckContext) -> Verdict:
    """Run one registered invariant; a missing table or queue is reported as a breach."""
    try:
        unit = INVARIANTS[name]
    except KeyError:
        raise KeyError(f"unknown invariant {name!r} (known: {', '.join(INVARIANTS)})") from None
    started = time.monotonic()
    try:
        breaches, details = unit.evaluate(ctx)
    except MissingSource as exc:
        breaches, details = [f"cannot be shown: {exc}"], {}
    if len(breaches) > MAX_EVIDENCE:
        breaches = breaches[:MAX_EVIDENCE] + [f"... and {len(breaches) - MAX_EVIDENCE} more"]
    return Verdict(invariant=name, ok=not breaches, breaches=breaches, reads=unit.reads,
                   details=details, elapsed_s=time.monotonic() - started)


def until(deadline: float, attempt: Callable[[], tuple[list[str], dict[str, Any]]],
          interval_s: float = 0.5) -> tuple[list[str], dict[str, Any]]:
    """Re-run ``attempt`` until it finds no breach or ``deadline`` (wall clock) passes."""
    while True:
        breaches, details = attempt()
        if not breaches or time.time() >= deadline:
            return breaches, details
        time.sleep(min(interval_s, max(0.0, deadline - time.time())))


def chunks(values: tuple[int, ...] | list[int], size: int = 5000) -> Iterator[list[int]]:
    items = list(values)
    for start in range(0, len(items), size):
        yield items[start:start + size]
