"""Business checks after a load run has drained, read straight from the services' databases.

Why: a run can meet every latency gate and still lose orders or charge twice. Once the load
stops, every order the run's buyers placed must reach a terminal state (bounded wait), no
order may be charged twice, and the run's products must conserve their stock. Scoped to the
run's own products (``Catalog.product_ids``) and the orders for them, so other traffic on
the platform does not count.

The checks are ``chaos.invariants`` units (``orders_complete``, ``terminal_states_final``,
``payments_match_ledger``, ``stock_conserved``) plus what only a load run knows: each
product still holds the units it was created with, and its sold units are exactly the units
of its PAID orders.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

import asyncpg

from chaos.invariants import Bounds, CheckContext, Scope, Sources, check
from chaos.topology import Topology
from load.data import Catalog

INVARIANTS = ("orders_complete", "terminal_states_final", "payments_match_ledger",
              "stock_conserved")


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
        return bool(self.checks) and all(check.passed for check in self.checks)

    def table(self) -> str:
        drained = "-" if self.drained_in_s is None else f"{self.drained_in_s:.1f} s"
        lines = [f"business checks: {'PASSED' if self.passed else 'FAILED'} "
                 f"({self.orders} orders: {self.by_status}; drained in {drained})",
                 "| check | result | detail |", "|---|---|---|"]
        lines += [f"| {c.name} | {'ok' if c.passed else 'BREACH'} | {c.detail} |"
                  for c in self.checks]
        return "\n".join(lines)


def check_business(topology: Topology, catalog: Catalog, *,
                   drain_timeout_s: float = 90.0) -> BusinessReport:
    """Wait until the run's orders are terminal (up to ``drain_timeout_s``), then check."""
    status, drained = asyncio.run(_drain(topology, catalog, drain_timeout_s))
    by_status: dict[str, int] = {}
    for value in status.values():
        by_status[value] = by_status.get(value, 0) + 1
    report = BusinessReport(len(status), by_status, drained)
    context = CheckContext(topology, Sources(topology),
                           scope=Scope(order_ids=tuple(sorted(status)),
                                       product_ids=catalog.product_ids),
                           bounds=Bounds(terminal_within_s=0.0), faults_cleared_at=time.time())
    for name in INVARIANTS:
        verdict = check(name, context)
        report.checks.append(Check(name, verdict.ok, "; ".join(verdict.breaches[:5])
                                   or _summary(verdict.details)))
    report.checks.append(asyncio.run(_units(topology, catalog)))
    return report


def _summary(details: dict[str, object]) -> str:
    return ", ".join(f"{k} {v}" for k, v in details.items()) or "ok"


async def _connect(topology: Topology, service: str) -> asyncpg.Connection:
    pg = topology.postgres
    return await asyncpg.connect(host=pg.host, port=pg.port, user=pg.user,
                                 password=pg.password or None,
                                 database=topology.service(service).database, timeout=10)


async def _drain(topology: Topology, catalog: Catalog,
                 timeout_s: float) -> tuple[dict[int, str], float | None]:
    """The run's orders (id → status) once none is PENDING, and how long that took."""
    connection = await _connect(topology, "order")
    try:
        began = time.monotonic()
        while True:
            rows = await connection.fetch(
                "SELECT id, status FROM orders WHERE id IN (SELECT order_id FROM order_items "
                "WHERE product_id = ANY($1::bigint[]))", list(catalog.product_ids))
            status = {int(r["id"]): str(r["status"]) for r in rows}
            if "PENDING" not in status.values():
                return status, time.monotonic() - began
            if time.monotonic() - began > timeout_s:
                return status, None
            await asyncio.sleep(0.5)
    finally:
        await connection.close()


async def _units(topology: Topology, catalog: Catalog) -> Check:
    """Each product still has its starting units, and sold = the units of its PAID orders."""
    products = list(catalog.product_ids)
    orders_db = await _connect(topology, "order")
    try:
        paid = {int(r["product_id"]): int(r["units"]) for r in await orders_db.fetch(
            "SELECT i.product_id, sum(i.quantity) AS units FROM order_items i JOIN orders o "
            "ON o.id = i.order_id WHERE o.status = 'PAID' AND i.product_id = ANY($1::bigint[]) "
            "GROUP BY i.product_id", products)}
    finally:
        await orders_db.close()
    products_db = await _connect(topology, "product")
    try:
        rows = await products_db.fetch("SELECT id, stock, reserved, sold FROM products "
                                       "WHERE id = ANY($1::bigint[])", products)
    finally:
        await products_db.close()
    problems = [] if len(rows) == len(products) else [f"found {len(rows)} of {len(products)}"]
    for r in rows:
        pid, units = int(r["id"]), int(r["stock"]) + int(r["reserved"]) + int(r["sold"])
        if units != catalog.initial_stock[pid]:
            problems.append(f"product {pid}: {units} units, created with "
                            f"{catalog.initial_stock[pid]}")
        if int(r["sold"]) != paid.get(pid, 0):
            problems.append(f"product {pid}: sold {r['sold']} != {paid.get(pid, 0)} units in "
                            f"PAID orders")
    return Check("units sold = units of PAID orders; starting units kept", not problems,
                 "; ".join(problems) or f"{len(rows)} products, {sum(paid.values())} units sold")
