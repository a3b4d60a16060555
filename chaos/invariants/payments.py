"""PAID ⇔ exactly one approved charge in the processor's own ledger; REJECTED never charged;
a declined order holds no stock."""

from __future__ import annotations

import time
from collections import defaultdict
from typing import Any, ClassVar

from chaos.invariants.base import TERMINAL, CheckContext, register, until
from chaos.invariants.orders import _scope_ids


@register
class PaymentsMatchLedger:
    name: ClassVar[str] = "payments_match_ledger"
    guards: ClassVar[str] = ("PAID <=> exactly one approved, unrefunded charge at the processor; "
                             "no charge for a REJECTED or PAYMENT_FAILED order; a declined order "
                             "holds no stock")
    reads: ClassVar[tuple[str, ...]] = ("order.orders", "payment.processor_ledger",
                                        "product.reservations")

    def evaluate(self, ctx: CheckContext) -> tuple[list[str], dict[str, Any]]:
        return until(time.time() + ctx.bounds.settle_s, lambda: self._once(ctx))

    def _once(self, ctx: CheckContext) -> tuple[list[str], dict[str, Any]]:
        ids = _scope_ids(ctx)
        orders = {int(r["id"]): str(r["status"]) for r in ctx.sources.rows(
            "order", "SELECT id, status FROM orders WHERE $1::bigint[] IS NULL"
            " OR id = ANY($1::bigint[])", ids)}
        ledger: dict[int, list[dict[str, Any]]] = defaultdict(list)
        for row in ctx.sources.rows(
                "payment", "SELECT idempotency_key, order_id, outcome, refunded_at FROM"
                " processor_ledger WHERE $1::bigint[] IS NULL OR order_id = ANY($1::bigint[])",
                ids):
            ledger[int(row["order_id"])].append(row)
        reservations = {int(r["order_id"]): str(r["state"]) for r in ctx.sources.rows(
            "product", "SELECT order_id, state FROM reservations WHERE $1::bigint[] IS NULL"
            " OR order_id = ANY($1::bigint[])", ids)}
        breaches: list[str] = []
        for oid, status in sorted(orders.items()):
            if status not in TERMINAL:
                continue
            charges = [r for r in ledger.get(oid, [])
                       if r["outcome"] == "APPROVED" and r["refunded_at"] is None]
            keys = ", ".join(str(r["idempotency_key"]) for r in charges)
            if status == "PAID" and len(charges) != 1:
                breaches.append(f"order {oid} is PAID with {len(charges)} approved unrefunded "
                                f"charges at the processor{': ' + keys if keys else ''}")
            if status == "REJECTED" and ledger.get(oid):
                rows = ", ".join(f"{r['idempotency_key']} {r['outcome']}" for r in ledger[oid])
                breaches.append(f"order {oid} is REJECTED but the processor has a charge: {rows}")
            if status == "PAYMENT_FAILED" and charges:
                breaches.append(f"order {oid} is PAYMENT_FAILED but charged: {keys}")
            if status == "PAYMENT_FAILED" and reservations.get(oid) in ("RESERVED", "COMMITTED"):
                breaches.append(f"declined order {oid} holds stock (reservation "
                                f"{reservations[oid]})")
        for oid in sorted(set(ledger) - set(orders)):
            if ids is None or oid in ids:
                breaches.append(f"processor charged order {oid}, which the order database "
                                f"does not have")
        return breaches, {"orders": len(orders), "ledger_rows": sum(map(len, ledger.values()))}
