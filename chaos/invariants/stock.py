"""Stock conserved per product: initial + adjustments = available + reserved + sold, none < 0."""

from __future__ import annotations

from typing import Any, ClassVar

from chaos.invariants.base import CheckContext, register

CONSERVATION_SQL = """
SELECT p.id, p.sku, p.stock, p.reserved, p.sold,
       coalesce((SELECT sum(delta) FROM stock_adjustments a WHERE a.product_id = p.id),
                0)::bigint AS adjusted,
       coalesce((SELECT sum(i.quantity) FROM reservation_items i JOIN reservations r
                 USING (order_id) WHERE i.product_id = p.id AND r.state = 'RESERVED'),
                0)::bigint AS held,
       coalesce((SELECT sum(i.quantity) FROM reservation_items i JOIN reservations r
                 USING (order_id) WHERE i.product_id = p.id AND r.state = 'COMMITTED'),
                0)::bigint AS committed
FROM products p
WHERE $1::bigint[] IS NULL OR p.id = ANY($1::bigint[])
ORDER BY p.id
"""


@register
class StockConserved:
    name: ClassVar[str] = "stock_conserved"
    guards: ClassVar[str] = ("per product, initial stock plus admin adjustments equals "
                             "available + reserved + sold; reserved/sold match the "
                             "reservations; nothing negative")
    reads: ClassVar[tuple[str, ...]] = ("product.products", "product.stock_adjustments",
                                        "product.reservations", "product.reservation_items")

    def evaluate(self, ctx: CheckContext) -> tuple[list[str], dict[str, Any]]:
        ids = list(ctx.scope.product_ids) if ctx.scope.product_ids is not None else None
        rows = ctx.sources.rows("product", CONSERVATION_SQL, ids)  # one statement: one snapshot
        breaches = []
        for r in rows:
            name = f"product {r['id']} ({r['sku']})"
            total = r["stock"] + r["reserved"] + r["sold"]
            if r["adjusted"] != total:
                breaches.append(
                    f"{name}: initial+adjustments {r['adjusted']} != available {r['stock']} + "
                    f"reserved {r['reserved']} + sold {r['sold']} = {total} "
                    f"({r['adjusted'] - total:+d} units unaccounted)")
            if r["reserved"] != r["held"]:
                breaches.append(f"{name}: reserved {r['reserved']} but RESERVED reservations "
                                f"hold {r['held']}")
            if r["sold"] != r["committed"]:
                breaches.append(f"{name}: sold {r['sold']} but COMMITTED reservations hold "
                                f"{r['committed']}")
            for column in ("stock", "reserved", "sold"):
                if r[column] < 0:
                    breaches.append(f"{name}: {column} is negative ({r[column]})")
        return breaches, {"products": len(rows)}
