"""Invariants as registered units, each reading the databases and the broker directly.

``check(name, ctx)`` runs one; ``INVARIANTS`` maps names to units (each with ``guards`` and
``reads``). Units: ``orders_complete``, ``terminal_states_final`` (orders),
``payments_match_ledger`` (payments), ``stock_conserved`` (stock), ``outbox_drained``,
``dead_letters_accounted``, ``no_unroutable_events`` (messaging), ``api_fails_well`` (api),
``readiness_truthful`` (readiness), ``recovery`` (recovery).
"""

from __future__ import annotations

from chaos.invariants import api, messaging, orders, payments, readiness, recovery, stock
from chaos.invariants.base import (
    INVARIANTS,
    AcceptedOrder,
    Bounds,
    CheckContext,
    FaultWindow,
    HttpSample,
    ReadinessSample,
    Scope,
    Verdict,
    check,
)
from chaos.invariants.messaging import broker_baseline
from chaos.invariants.readiness import ReadinessSampler
from chaos.invariants.sources import Sources

_UNITS = (api, messaging, orders, payments, readiness, recovery, stock)

__all__ = ["INVARIANTS", "AcceptedOrder", "Bounds", "CheckContext", "FaultWindow",
           "HttpSample", "ReadinessSample", "ReadinessSampler", "Scope", "Sources", "Verdict",
           "broker_baseline", "check"]
