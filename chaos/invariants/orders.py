"""Order invariants: accepted orders complete exactly once; terminal states never change."""

from __future__ import annotations

import time
from collections import Counter
from typing import Any, ClassVar

from chaos.invariants.base import TERMINAL, CheckContext, register, until


def _orders(ctx: CheckContext, ids: list[int]) -> dict[int, dict[str, Any]]:
    rows = ctx.sources.rows("order", "SELECT id, user_id, status, idempotency_key, created_at,"
                            " updated_at FROM orders WHERE id = ANY($1::bigint[])", ids)
    return {int(r["id"]): r for r in rows}


def _reservations(ctx: CheckContext, ids: list[int] | None) -> dict[int, dict[str, Any]]:
    rows = ctx.sources.rows(
        "product", "SELECT order_id, state, extract(epoch FROM now() - updated_at) AS age_s"
        " FROM reservations WHERE $1::bigint[] IS NULL OR order_id = ANY($1::bigint[])", ids)
    return {int(r["order_id"]): r for r in rows}


@register
class OrdersComplete:
    name: ClassVar[str] = "orders_complete"
    guards: ClassVar[str] = ("every order the workload saw accepted exists exactly once and is "
                             "terminal within the bound after faults clear; no reservation held")
    reads: ClassVar[tuple[str, ...]] = ("order.orders", "product.reservations")

    def evaluate(self, ctx: CheckContext) -> tuple[list[str], dict[str, Any]]:
        deadline = ctx.cleared_at + ctx.bounds.terminal_within_s
        return until(deadline, lambda: self._once(ctx))

    def _once(self, ctx: CheckContext) -> tuple[list[str], dict[str, Any]]:
        breaches: list[str] = []
        accepted = ctx.scope.accepted
        ids = sorted({a.order_id for a in accepted} | set(ctx.scope.order_ids or ()))
        if not accepted and ctx.scope.order_ids is None:
            stuck = ctx.sources.rows(
                "order", "SELECT id, extract(epoch FROM now() - created_at) AS age_s FROM orders"
                " WHERE status = 'PENDING' AND created_at < now() - make_interval(secs => $1)",
                ctx.bounds.terminal_within_s)
            ids = [int(r["id"]) for r in stuck]
        orders = _orders(ctx, ids)
        keys = Counter((a.user_id, a.idempotency_key) for a in accepted)
        if accepted:
            dup_rows = ctx.sources.rows(
                "order", "SELECT user_id, idempotency_key, array_agg(id ORDER BY id) AS ids"
                " FROM orders WHERE idempotency_key = ANY($1::text[])"
                " GROUP BY user_id, idempotency_key HAVING count(*) > 1",
                [k for _, k in keys])
            for dup in dup_rows:
                breaches.append(f"idempotency key {dup['idempotency_key']} of user "
                                f"{dup['user_id']} has {len(dup['ids'])} orders: {dup['ids']}")
        for item in accepted:
            row: dict[str, Any] | None = orders.get(item.order_id)
            if row is None:
                breaches.append(f"order {item.order_id} (accepted, key {item.idempotency_key}) "
                                f"is missing from {ctx.sources.database('order')}.orders")
            elif row["user_id"] != item.user_id or row["idempotency_key"] != item.idempotency_key:
                breaches.append(f"order {item.order_id} belongs to user {row['user_id']} key "
                                f"{row['idempotency_key']}, not the accepted "
                                f"{item.user_id}/{item.idempotency_key}")
        waited = time.time() - ctx.cleared_at
        for oid in ids:
            current = orders.get(oid)
            if current is not None and current["status"] not in TERMINAL:
                breaches.append(f"order {oid} still {current['status']} {waited:.1f}s after the "
                                f"faults cleared")
        reservations = _reservations(ctx, ids)
        for oid, res in sorted(reservations.items()):
            held = orders.get(oid)
            if res["state"] == "RESERVED" and held is not None and held["status"] in TERMINAL:
                breaches.append(f"order {oid} is {held['status']} but its reservation is still "
                                f"RESERVED (stock held for {float(res['age_s']):.0f}s)")
        counts = Counter(str(r["status"]) for r in orders.values())
        return breaches, {"orders": len(ids), "by_status": dict(counts)}


@register
class TerminalStatesFinal:
    name: ClassVar[str] = "terminal_states_final"
    guards: ClassVar[str] = ("a terminal order never changes state, and every change of "
                             "status is recorded in order_transitions")
    reads: ClassVar[tuple[str, ...]] = ("order.order_transitions", "order.orders")

    def evaluate(self, ctx: CheckContext) -> tuple[list[str], dict[str, Any]]:
        ids = _scope_ids(ctx)
        breaches: list[str] = []
        left = ctx.sources.rows(
            "order", "SELECT order_id, from_status, to_status, at FROM order_transitions"
            " WHERE from_status = ANY($1::text[])"
            " AND ($2::bigint[] IS NULL OR order_id = ANY($2::bigint[])) ORDER BY id",
            list(TERMINAL), ids)
        for row in left:
            breaches.append(f"order {row['order_id']} left terminal state {row['from_status']} "
                            f"for {row['to_status']} at {row['at'].isoformat()}")
        mismatched = ctx.sources.rows(
            "order", "SELECT o.id, o.status, t.to_status FROM orders o LEFT JOIN LATERAL"
            " (SELECT to_status FROM order_transitions WHERE order_id = o.id"
            "  ORDER BY id DESC LIMIT 1) t ON true"
            " WHERE ($1::bigint[] IS NULL OR o.id = ANY($1::bigint[]))"
            " AND t.to_status IS DISTINCT FROM o.status ORDER BY o.id", ids)
        for row in mismatched:
            if row["to_status"] is None:
                breaches.append(f"order {row['id']} is {row['status']} with no recorded "
                                f"transition")
            else:
                breaches.append(f"order {row['id']} is {row['status']} but its last recorded "
                                f"transition is to {row['to_status']} (a change went "
                                f"unrecorded)")
        return breaches, {"orders": "all" if ids is None else len(ids)}


def _scope_ids(ctx: CheckContext) -> list[int] | None:
    if ctx.scope.accepted or ctx.scope.order_ids is not None:
        return sorted({a.order_id for a in ctx.scope.accepted} | set(ctx.scope.order_ids or ()))
    return None
