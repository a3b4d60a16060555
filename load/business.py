"""Business checks after a load run has drained, read straight from the services' databases.

Why: a run can meet every latency gate and still lose orders or charge twice. Once the load
stops, every order the run's buyers placed must reach a terminal state (bounded wait), no
order may be charged twice, and the run's products must conserve their stock. Scoped to the
run's own products (``Catalog.product_ids``) so other traffic on the platform does not count.

These are minimal queries of the contract's tables (orders, payments, processor_ledger,
products, stock_adjustments); ``chaos.invariants`` holds the platform-wide checks.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

import asyncpg

from chaos.topology import Topology
from load.data import Catalog


@dataclass(slots=True)
class Check:
    name: str
    passed: bool
    detail: str


@dataclass(slots=True)
class BusinessReport:
    orders: int
    by_status: dict[str, int]
    drained_in_s: float | None
    """Seconds from the end of the load until no order of the run was PENDING (None: never)."""
    checks: list[Check] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(check.passed for check in self.checks)

    def table(self) -> str:
        lines = [f"business checks: {'PASSED' if self.passed else 'FAILED'} "
                 f"({self.orders} orders: {self.by_status}; drained in "
                 f"{'-' if self.drained_in_s is None else f'{self.drained_in_s:.1f} s'})",
                 "| check | result | detail |", "|---|---|---|"]
        lines += [f"| {c.name} | {'ok' if c.passed else 'BREACH'} | {c.detail} |"
                  for c in self.checks]
        return "\n".join(lines)


def check_business(topology: Topology, catalog: Catalog, *,
                   drain_timeout_s: float = 90.0) -> BusinessReport:
    """Wait until the run's orders are terminal (up to ``drain_timeout_s``), then check."""
    return asyncio.run(_check(topology, catalog, drain_timeout_s, catalog.initial_stock))


async def _connect(topology: Topology, service: str) -> asyncpg.Connection:
    pg = topology.postgres
    return await asyncpg.connect(host=pg.host, port=pg.port, user=pg.user,
                                 password=pg.password or None,
                                 database=topology.service(service).database, timeout=10)


async def _check(topology: Topology, catalog: Catalog, drain_timeout_s: float,
                 initial_stock: dict[int, int]) -> BusinessReport:
    products = list(catalog.product_ids)
    orders_db = await _connect(topology, "order")
    try:
        began = time.monotonic()
        drained: float | None = None
        while True:
            rows = await orders_db.fetch(
                "SELECT o.id, o.status FROM orders o WHERE o.id IN (SELECT order_id FROM "
                "order_items WHERE product_id = ANY($1::bigint[]))", products)
            if not any(r["status"] == "PENDING" for r in rows):
                drained = time.monotonic() - began
                break
            if time.monotonic() - began > drain_timeout_s:
                break
            await asyncio.sleep(0.5)
        sold_by_orders = {r["product_id"]: int(r["units"]) for r in await orders_db.fetch(
            "SELECT i.product_id, sum(i.quantity) AS units FROM order_items i JOIN orders o "
            "ON o.id = i.order_id WHERE o.status = 'PAID' AND i.product_id = ANY($1::bigint[]) "
            "GROUP BY i.product_id", products)}
    finally:
        await orders_db.close()
    status = {int(r["id"]): str(r["status"]) for r in rows}
    by_status: dict[str, int] = {}
    for value in status.values():
        by_status[value] = by_status.get(value, 0) + 1
    report = BusinessReport(len(status), by_status, drained)
    pending = sorted(i for i, s in status.items() if s == "PENDING")
    report.checks.append(Check(
        "every accepted order reached a terminal state", not pending,
        f"{len(pending)} still PENDING after {drain_timeout_s:.0f} s: {pending[:10]}"
        if pending else f"{len(status)} orders terminal"))
    report.checks.extend(await _payments(topology, status))
    report.checks.extend(await _stock(topology, products, sold_by_orders, initial_stock))
    return report


async def _payments(topology: Topology, status: dict[int, str]) -> list[Check]:
    payments_db = await _connect(topology, "payment")
    try:
        ids = list(status)
        charged = {int(r["order_id"]): int(r["n"]) for r in await payments_db.fetch(
            "SELECT order_id, count(*) AS n FROM processor_ledger WHERE outcome = 'APPROVED' "
            "AND refunded_at IS NULL AND order_id = ANY($1::bigint[]) GROUP BY order_id", ids)}
        approved = {int(r["order_id"]): int(r["n"]) for r in await payments_db.fetch(
            "SELECT order_id, count(*) AS n FROM payments WHERE status = 'APPROVED' "
            "AND order_id = ANY($1::bigint[]) GROUP BY order_id", ids)}
    finally:
        await payments_db.close()
    twice = sorted(i for i, n in charged.items() if n > 1)
    paid_not_charged = sorted(i for i, s in status.items() if s == "PAID" and charged.get(i) != 1)
    charged_not_paid = sorted(i for i, s in status.items() if s != "PAID" and charged.get(i))
    approved_twice = sorted(i for i, n in approved.items() if n > 1)
    return [
        Check("no order charged twice", not twice and not approved_twice,
              f"charged twice: {twice[:10]} {approved_twice[:10]}" if twice or approved_twice
              else f"{sum(charged.values())} charges for {len(status)} orders"),
        Check("PAID <=> exactly one approved, unrefunded charge",
              not paid_not_charged and not charged_not_paid,
              f"PAID without a charge: {paid_not_charged[:10]}; charged but not PAID: "
              f"{charged_not_paid[:10]}" if paid_not_charged or charged_not_paid else "ok"),
    ]


async def _stock(topology: Topology, products: list[int], sold_by_orders: dict[int, int],
                 initial_stock: dict[int, int]) -> list[Check]:
    products_db = await _connect(topology, "product")
    try:
        rows = await products_db.fetch(
            "SELECT p.id, p.stock, p.reserved, p.sold, (SELECT coalesce(sum(delta), 0) FROM "
            "stock_adjustments a WHERE a.product_id = p.id) AS adjusted FROM products p "
            "WHERE p.id = ANY($1::bigint[])", products)
    finally:
        await products_db.close()
    problems = []
    for r in rows:
        pid = int(r["id"])
        stock, reserved, sold = int(r["stock"]), int(r["reserved"]), int(r["sold"])
        if int(r["adjusted"]) != stock + reserved + sold:
            problems.append(f"product {pid}: adjustments {r['adjusted']} != stock {stock} + "
                            f"reserved {reserved} + sold {sold}")
        if pid in initial_stock and stock + reserved + sold != initial_stock[pid]:
            problems.append(f"product {pid}: {stock + reserved + sold} units, started with "
                            f"{initial_stock[pid]}")
        if reserved:
            problems.append(f"product {pid}: {reserved} units still reserved after the drain")
        if sold != sold_by_orders.get(pid, 0):
            problems.append(f"product {pid}: sold {sold} != units in PAID orders "
                            f"{sold_by_orders.get(pid, 0)}")
    if len(rows) != len(products):
        problems.append(f"products missing: found {len(rows)} of {len(products)}")
    return [Check("stock conserved (adjustments = stock + reserved + sold = PAID units)",
                  not problems, "; ".join(problems[:5]) or f"{len(rows)} products")]
