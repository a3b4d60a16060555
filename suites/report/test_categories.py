"""Every precise category is proven on a real failure of its kind (the planted run): the
Python classifier (terminal summary) and Allure 3 (the report) put it in the same place."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from chaos.run import categories
from chaos.run.results import read_results
from suites.report.throwaway import EXPECTED, PlantedRun


def _result(planted: PlantedRun, name: str) -> dict[str, Any]:
    found = [r for r in read_results(planted.paths.results) if r.get("name") == name]
    assert len(found) == 1, f"{name}: {len(found)} results\n{planted.pytest_output[-3000:]}"
    return found[0]


def _report_categories(planted: PlantedRun) -> dict[str, set[str]]:
    """Category name → names of the test results Allure 3 put under it."""
    data = json.loads((planted.paths.report / "widgets" / "categories.json").read_text())
    nodes = data["nodes"]

    def leaves(node_id: str) -> set[str]:
        node = nodes[node_id]
        if node.get("type") == "tr":
            return {str(node["name"])}
        return set().union(*(leaves(child) for child in node.get("childrenIds", [])))

    return {nodes[root]["name"]: leaves(root) for root in data["roots"]}


@pytest.mark.parametrize("test_name", list(EXPECTED))
def test_a_real_failure_lands_in_its_category(planted: PlantedRun, test_name: str) -> None:
    expected = EXPECTED[test_name]
    result = _result(planted, test_name)
    message = str((result.get("statusDetails") or {}).get("message", ""))
    assert result["status"] in categories.ANY_FAILURE, result["status"]
    got = categories.classify(str(result["status"]), message)
    assert got is expected, f"{test_name} classified {got and got.name!r}:\n{message[:2000]}"
    in_report = _report_categories(planted)
    assert test_name in in_report.get(expected.name, set()), (
        f"the report puts {test_name} elsewhere: {in_report}")


def test_every_precise_category_has_a_planted_failure() -> None:
    assert set(EXPECTED.values()) == set(categories.PRECISE)


def test_patterns_read_the_same_in_python_and_javascript() -> None:
    """No inline flags, look-behinds or named groups (JavaScript would read them differently
    or not at all); case-insensitivity is the RegExp's "i" flag, set by report.py."""
    for category in categories.CATEGORIES:
        for pattern in category.patterns:
            re.compile(pattern)
            assert not re.search(r"\(\?[a-zP<]", pattern), f"{category.name}: {pattern}"


def test_a_passing_result_has_no_category(planted: PlantedRun) -> None:
    result = _result(planted, "test_planted_pass")
    assert categories.classify(str(result["status"]), "") is None


def test_parametrized_cases_stay_distinct(planted: PlantedRun) -> None:
    """allure-pytest renders bytes as <class 'bytes'>; Allure 3 would merge the cases into
    one test with retries. The reporting plugin renders them readably."""
    cases = [r for r in read_results(planted.paths.results)
             if str(r.get("name", "")).startswith("test_planted_bytes_cases_stay_distinct")]
    shown = sorted(p["value"] for r in cases for p in r.get("parameters", []))
    assert shown == sorted([repr(b"{not json"), repr(b"\xff\xfe")])
    summary = json.loads((planted.paths.report / "summary.json").read_text())
    assert "retries" not in summary["stats"], summary["stats"]
    assert summary["stats"]["total"] == len(read_results(planted.paths.results))


def _contract_line() -> str:
    from contracts.verify import InteractionResult

    return InteractionResult(provider="product", consumer="order",
                             description="a request for product 7", passed=False,
                             mismatches=("[body] $.price: Expected 12.5 but received '12.50'",)
                             ).line()


def _invariant_line() -> str:
    from chaos.invariants import check
    from chaos.invariants.base import CheckContext, HttpSample
    from chaos.invariants.sources import Sources
    from chaos.topology import load_topology

    topology = load_topology()
    verdict = check("api_fails_well", CheckContext(topology, Sources(topology), samples=[
        HttpSample("GET", "/api/v1/orders/1", 0, 31.0, at=0.0, error="ReadTimeout")]))
    # The chaos suite's summary of a journal (suites/chaos/test_experiments.py).
    return f"status failed, recovery {{}}\nFAIL {verdict.invariant}: {verdict.breaches[:5]}"


def _gates_table() -> str:
    from load.gates import Gate, evaluate
    from load.samples import Sample

    return evaluate([Gate("POST /api/v1/orders", "max_failure_ratio", 0.01)],
                    {"POST /api/v1/orders": Sample(100, 9, {40: 100}, 10.0)}).table()


@pytest.mark.parametrize(("make_message", "expected"), [
    (_contract_line, categories.CONTRACT_DRIFT),
    (_invariant_line, categories.SAGA_INVARIANT),
    (_gates_table, categories.SLO_BREACH),
], ids=["contract-verification-line", "chaos-journal-summary", "slo-gates-table"])
def test_the_other_layers_own_wording_lands_in_its_category(
        make_message: Any, expected: categories.Category) -> None:
    """The messages the contract, chaos and load layers build with their own code (what
    their assertions print), classified like the report does."""
    message = f"AssertionError: {make_message()}"
    got = categories.classify("failed", message)
    assert got is expected, f"{got and got.name!r}:\n{message}"
