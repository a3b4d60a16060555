"""Chaos Toolkit actions: inject a fault (with a TTL the watchdog enforces), remove it, heal.

Chaos Toolkit calls plain functions one after the other in one process, so this module
keeps that process's :class:`FaultSession` (started on the first fault, with its watchdog;
closed — every fault undone — at interpreter exit). If the ``chaos`` process dies, the
watchdog undoes its faults; Chaos Toolkit's own rollbacks are not needed for that.
"""

from __future__ import annotations

import atexit
from typing import Any

from chaos.faults import FaultContext, FaultSession, fault_from_spec, heal_everything

_session: FaultSession | None = None


def _current() -> FaultSession:
    global _session
    if _session is None:
        _session = FaultSession(FaultContext.from_environment())
        _session.start()
        atexit.register(_close)
    return _session


def _close() -> None:
    global _session
    session, _session = _session, None
    if session is not None:
        session.close()


def inject_fault(kind: str, ttl_s: float = 60.0, **fields: Any) -> dict[str, Any]:
    """Apply one fault unit (``kind`` + its fields, e.g. ``edges``, ``latency_ms``)."""
    fault = fault_from_spec({"kind": kind, **fields})
    record = _current().inject(fault, ttl_s=ttl_s)
    return {"id": record.id, "description": record.description,
            "expires_at": record.expires_at}


def remove_fault(fault_id: str) -> bool:
    """Undo one fault by the id ``inject_fault`` returned; False if already healed."""
    session = _current()
    for record in session.active():
        if record.id == fault_id:
            return session.remove(record)
    return False


def heal_all() -> dict[str, Any]:
    """Undo this process's faults and whatever else any run left (``crashcart heal``)."""
    mine = [r.description for r in _session.heal_all()] if _session is not None else []
    ctx = FaultContext.from_environment()
    try:
        report = heal_everything(ctx)
    finally:
        ctx.close()
    return {"undone": mine + report.undone, "mesh_reset": report.mesh_reset,
            "components": report.components, "errors": report.errors}
