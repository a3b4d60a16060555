"""Faults: block-scoped context managers, and typed fault units with a TTL and a watchdog.

* ``connect`` / ``toxic`` / ``proxy_down`` (``blocks``): one toxic or one downed proxy for a
  ``with`` block over toxiproxy-python, always undone.
* Fault units, one module per family: ``toxics`` (every Toxiproxy toxic on an edge or a
  group of edges), ``proxies`` (proxy down), ``processes`` (kill, pause, restart through
  the backend), ``broker`` (the broker closes a consumer channel; publishes blocked).
  Each applies and undoes idempotently, round-trips through a dict (``to_spec`` /
  ``fault_from_spec``) and runs inside a :class:`FaultSession`, which records it in the
  ledger under the state dir with a TTL that the ``watchdog`` process enforces.
* ``heal_everything``: what ``crashcart heal`` does.
"""

from __future__ import annotations

from chaos.faults.base import FAULTS, FaultContext, fault_from_spec, register, to_spec
from chaos.faults.blocks import connect, proxy_down, toxic
from chaos.faults.broker import BlockPublishes, CloseConsumerChannel
from chaos.faults.heal import HealReport, heal_everything
from chaos.faults.ledger import FaultRecord, Ledger
from chaos.faults.processes import KillService, PauseService, RestartService
from chaos.faults.proxies import ProxyDown
from chaos.faults.session import FaultSession
from chaos.faults.toxics import (
    Bandwidth,
    Latency,
    LimitData,
    ResetPeer,
    Slicer,
    SlowClose,
    Timeout,
    ToxicFault,
)

__all__ = [
    "FAULTS", "Bandwidth", "BlockPublishes", "CloseConsumerChannel", "FaultContext",
    "FaultRecord", "FaultSession", "HealReport", "KillService", "Latency", "Ledger",
    "LimitData", "PauseService", "ProxyDown", "ResetPeer", "RestartService", "Slicer",
    "SlowClose", "Timeout", "ToxicFault", "connect", "fault_from_spec", "heal_everything",
    "proxy_down", "register", "to_spec", "toxic",
]
