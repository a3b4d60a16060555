"""The SLO gate evaluator: limits, no samples, an invalid (CPU-saturated) run, the gates file."""

from __future__ import annotations

from pathlib import Path

import pytest

from load.gates import (
    CHECKOUT_PAID,
    EXIT_BREACHED,
    EXIT_INVALID,
    EXIT_PASSED,
    Gate,
    GatesFileError,
    Verdict,
    evaluate,
    generator_saturated,
    holds_in_window,
    load_gates,
    parse_gates,
)
from load.samples import AGGREGATED, Sample

ORDERS = "POST /api/v1/orders"


def sample(times_ms: dict[int, int], failures: int = 0, duration_s: float = 10.0) -> Sample:
    return Sample(sum(times_ms.values()), failures, dict(times_ms), duration_s)


HEALTHY = {
    AGGREGATED: sample({20: 95, 300: 5}),
    ORDERS: sample({40: 90, 200: 10}),
}


def test_a_run_within_every_limit_passes() -> None:
    gates = [Gate(ORDERS, "p95_ms", 500), Gate(ORDERS, "max_failure_ratio", 0.01),
             Gate(AGGREGATED, "min_rps", 5)]
    report = evaluate(gates, HEALTHY)
    assert report.verdict is Verdict.PASSED and report.exit_code == EXIT_PASSED
    assert [r.observed for r in report.results] == [200.0, 0.0, 10.0]


@pytest.mark.parametrize(("gate", "observed"), [
    (Gate(ORDERS, "p50_ms", 30), 40.0),
    (Gate(ORDERS, "p95_ms", 150), 200.0),
    (Gate(ORDERS, "p99_ms", 199), 200.0),
    (Gate(AGGREGATED, "min_rps", 20), 10.0),
], ids=["p50", "p95", "p99", "min-rps"])
def test_a_limit_crossed_is_a_breach_with_the_observed_value(gate: Gate, observed: float) -> None:
    report = evaluate([gate], HEALTHY)
    assert report.verdict is Verdict.FAILED and report.exit_code == EXIT_BREACHED
    (breach,) = report.breached
    assert breach.observed == observed and "observed" in breach.reason


def test_failure_ratio_gate() -> None:
    failing = {ORDERS: sample({40: 100}, failures=5)}
    assert evaluate([Gate(ORDERS, "max_failure_ratio", 0.05)], failing).verdict is Verdict.PASSED
    assert evaluate([Gate(ORDERS, "max_failure_ratio", 0.04)], failing).verdict is Verdict.FAILED


@pytest.mark.parametrize("samples", [{}, {ORDERS: Sample()}], ids=["entry-missing", "zero-requests"])
def test_a_gate_with_zero_samples_fails(samples: dict[str, Sample]) -> None:
    report = evaluate([Gate(ORDERS, "p95_ms", 10_000), Gate(ORDERS, "max_failure_ratio", 1.0)],
                      samples)
    assert report.verdict is Verdict.FAILED
    assert all(r.reason == "no samples" and r.samples == 0 for r in report.results)


def test_no_gates_at_all_is_not_a_pass() -> None:
    assert evaluate([], HEALTHY).verdict is Verdict.FAILED


def test_a_cpu_saturated_run_is_invalid_even_when_every_gate_holds() -> None:
    report = evaluate([Gate(ORDERS, "p95_ms", 500)], HEALTHY, cpu_saturated=True)
    assert report.verdict is Verdict.INVALID and report.exit_code == EXIT_INVALID
    assert all(r.passed for r in report.results)
    assert "INVALID" in report.table() and "90 % CPU" in report.table()


def test_locusts_cpu_warning_flags_make_the_run_saturated() -> None:
    from locust.env import Environment
    from locust.event import Events

    runner = Environment(events=Events()).create_local_runner()
    try:
        assert not generator_saturated(runner)
        runner.cpu_warning_emitted = True  # what Locust's CPU monitor sets above 90 %
        assert generator_saturated(runner)
    finally:
        runner.quit()


def test_the_default_gates_file_gates_routes_and_the_checkout() -> None:
    gates = load_gates()
    entries = {g.entry for g in gates}
    assert {AGGREGATED, ORDERS, "GET /api/v1/orders/{id}", "GET /api/v1/products"} <= entries
    assert Gate(CHECKOUT_PAID, "p95_ms", 4000.0) in gates


def test_gates_file_tables(tmp_path: Path) -> None:
    path = tmp_path / "slo.toml"
    path.write_text('[run]\nmax_failure_ratio = 0.1\n[checkout]\naccept_to_paid_p95_ms = 900\n'
                    '[routes."GET /x/{id}"]\np99_ms = 50\nmin_rps = 1\n')
    assert load_gates(path) == [Gate(AGGREGATED, "max_failure_ratio", 0.1),
                                Gate(CHECKOUT_PAID, "p95_ms", 900.0),
                                Gate("GET /x/{id}", "p99_ms", 50.0),
                                Gate("GET /x/{id}", "min_rps", 1.0)]


@pytest.mark.parametrize("raw", [
    {"route": {}}, {"routes": {"GET /x": {"p97_ms": 1}}}, {"routes": {"/x": {"p95_ms": 1}}},
    {"routes": {"GET /x": {"p95_ms": "fast"}}}, {"checkout": {"p95": 1}},
    {"run": {"max_failure_ratio": -1}},
], ids=["unknown-table", "unknown-limit", "no-method", "not-a-number", "unknown-checkout-key",
        "negative"])
def test_gates_file_mistakes_are_refused(raw: dict) -> None:
    with pytest.raises(GatesFileError):
        parse_gates(raw)


def test_a_window_holds_only_with_requests_and_every_judged_gate_within_limits() -> None:
    gates = [Gate(ORDERS, "p95_ms", 500), Gate("GET /absent", "p95_ms", 1),
             Gate(AGGREGATED, "min_rps", 1000)]
    assert holds_in_window(gates, HEALTHY)  # absent entry and rate gates are not judged
    assert not holds_in_window(gates, {AGGREGATED: Sample()})
    assert not holds_in_window([Gate(ORDERS, "p95_ms", 100)], HEALTHY)


def test_the_checkout_gates_file_only_gates_what_the_checkout_mix_samples() -> None:
    from load.gates import CHECKOUT_GATES_FILE

    entries = {g.entry for g in load_gates(CHECKOUT_GATES_FILE)}
    assert entries == {AGGREGATED, CHECKOUT_PAID, ORDERS, "GET /api/v1/orders/{id}"}
