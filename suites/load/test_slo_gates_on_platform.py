"""SLO gates against the running platform: held when healthy, broken when slow or failing.

Each test is one bounded in-process Locust run (fresh Environment and Events) of the
storefront journeys through the gateway; the gates table, Locust's stats CSV and its HTML
report go to the Allure report.
"""

from __future__ import annotations

from typing import Any

import pytest

from chaos.faults import proxy_down, toxic
from load.data import prepare_catalog
from load.engine import LoadPlan, LoadResult, run_load
from load.gates import GateReport, Verdict
from suites.fixtures.platform import RunningPlatform
from suites.helpers.load_reports import attach_load_run

pytestmark = [pytest.mark.platform, pytest.mark.load, pytest.mark.slow]

HEALTHY_RUN_S = 40.0
FAULT_RUN_S = 15.0


def breached(report: GateReport) -> set[tuple[str, str]]:
    return {(r.gate.entry, r.gate.limit) for r in report.breached}


def held(report: GateReport, entry: str) -> bool:
    results = [r for r in report.results if r.gate.entry == entry]
    return bool(results) and all(r.passed for r in results)


def run(platform: RunningPlatform, title: str, **plan: Any) -> LoadResult:
    result = run_load(LoadPlan(host=platform.gateway_url, **plan))
    attach_load_run(result, title)
    return result


def test_gates_hold_on_a_healthy_platform(running_platform: RunningPlatform, mesh: Any) -> None:
    result = run(running_platform, "healthy", users=10, spawn_rate=5, run_time_s=HEALTHY_RUN_S)
    assert result.report.verdict is Verdict.PASSED, result.report.table()
    # every journey ran: its route (and the saga's outcomes) had samples and met its limits
    for entry in ("GET /api/v1/products", "GET /api/v1/products?q=", "POST /api/v1/orders",
                  "GET /api/v1/orders/{id}", "SAGA checkout accept→PAID",
                  "SAGA checkout accept→PAYMENT_FAILED", "SAGA checkout accept→REJECTED"):
        assert held(result.report, entry), entry
    assert result.entry("GET /api/v1/payments?order_id=").num_requests > 0


def test_latency_on_an_edge_breaks_the_p95_gate_of_the_routes_behind_it(
        running_platform: RunningPlatform, mesh: Any) -> None:
    catalog = prepare_catalog(running_platform.gateway_url)
    edge = running_platform.proxy_name("order", "product")
    with toxic(mesh, edge, "latency", latency=1500):  # below order-service's 2 s timeout
        result = run(running_platform, f"{edge} +1500 ms", users=8, spawn_rate=8,
                     run_time_s=FAULT_RUN_S, catalog=catalog)
    report = result.report
    assert report.verdict is Verdict.FAILED, report.table()
    assert ("POST /api/v1/orders", "p95_ms") in breached(report), report.table()
    assert result.entry("POST /api/v1/orders").percentile_ms(0.95) >= 1500
    # the catalog is read through gateway_to_product, not this edge: its gates still hold
    assert held(report, "GET /api/v1/products"), report.table()


def test_a_database_proxy_down_breaks_the_failure_ratio_gates(
        running_platform: RunningPlatform, mesh: Any) -> None:
    catalog = prepare_catalog(running_platform.gateway_url)  # before its database goes away
    edge = running_platform.proxy_name("product", "db")
    with proxy_down(mesh, edge):
        result = run(running_platform, f"{edge} down", users=8, spawn_rate=8,
                     run_time_s=FAULT_RUN_S, catalog=catalog)
    report = result.report
    assert report.verdict is Verdict.FAILED, report.table()
    failure_gates = {entry for entry, limit in breached(report) if limit == "max_failure_ratio"}
    assert {"Aggregated", "GET /api/v1/products", "GET /api/v1/products/{id}"} <= failure_gates, \
        report.table()
    assert result.entry("GET /api/v1/products").failure_ratio == 1.0
