"""Recovery: the time from the faults' removal until a fresh checkout succeeds again and
every backlog (outboxes, saga and retry queues, the run's orders) has drained."""

from __future__ import annotations

import time
from typing import Any, ClassVar

from chaos.invariants.base import TERMINAL, CheckContext, register
from chaos.invariants.messaging import outbox_backlog
from chaos.invariants.orders import _scope_ids
from chaos.invariants.sources import work_queues


def backlog(ctx: CheckContext) -> list[str]:
    """What still waits: pending outbox rows, queued saga messages, non-terminal orders."""
    waiting = [f"{svc} outbox: {int(row['pending'])} pending"
               for svc, row in outbox_backlog(ctx).items() if row["pending"]]
    waiting += [f"queue {name}: {depth} messages"
                for name, depth in ctx.sources.queue_depths(work_queues()).items() if depth]
    ids = _scope_ids(ctx)
    if ids:
        open_orders = [int(r["id"]) for r in ctx.sources.rows(
            "order", "SELECT id FROM orders WHERE id = ANY($1::bigint[])"
            " AND status <> ALL($2::text[])", ids, list(TERMINAL))]
        if open_orders:
            waiting.append(f"{len(open_orders)} orders not terminal: {open_orders[:10]}")
    return waiting


@register
class Recovery:
    name: ClassVar[str] = "recovery"
    guards: ClassVar[str] = ("after the faults are removed, checkouts succeed again and every "
                             "backlog drains within the bound (time measured and reported)")
    reads: ClassVar[tuple[str, ...]] = ("gateway checkout", "<every service>.outbox",
                                        "broker saga + retry queues", "order.orders")

    def evaluate(self, ctx: CheckContext) -> tuple[list[str], dict[str, Any]]:
        start = ctx.cleared_at
        deadline = start + ctx.bounds.recovery_within_s
        checkout_at: float | None = None if ctx.checkout_probe is not None else start
        drained_at: float | None = None
        waiting: list[str] = []
        first_seen: list[str] = []
        while time.time() < deadline and (checkout_at is None or drained_at is None):
            if checkout_at is None and ctx.checkout_probe is not None:
                if ctx.checkout_probe(max(1.0, deadline - time.time())):
                    checkout_at = time.time()
            if drained_at is None:
                waiting = backlog(ctx)
                first_seen = first_seen or waiting
                if not waiting:
                    drained_at = time.time()
                else:
                    time.sleep(0.5)
        details: dict[str, Any] = {
            "checkout_ok_after_s": _after(checkout_at, start),
            "drained_after_s": _after(drained_at, start),
            "bound_s": ctx.bounds.recovery_within_s,
            "backlog_at_removal": first_seen,
        }
        breaches = []
        if checkout_at is None:
            breaches.append(f"no checkout reached PAID within {ctx.bounds.recovery_within_s:.0f}s "
                            f"of the faults' removal")
        if drained_at is None:
            breaches.append(f"backlog not drained within {ctx.bounds.recovery_within_s:.0f}s: "
                            + "; ".join(waiting))
        if checkout_at is not None and drained_at is not None:
            details["recovery_s"] = round(max(checkout_at, drained_at) - start, 3)
        return breaches, details


def _after(at: float | None, since: float) -> float | None:
    return None if at is None else round(at - since, 3)
