"""``crashcart run`` twice in a row: the second report shows the first run in its history.
And a second run while one holds the instance's lock is refused with a clear message."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from chaos.run.lock import RunLock
from suites.helpers.browser import chromium_page
from suites.report import instance
from suites.report.conftest import serve_directory

pytestmark = pytest.mark.slow

TINY = ["run", "--only", "unit", "--pytest-arg=-k=test_breaker"]
"""A layer that needs no platform, narrowed to a handful of tests."""


def _test_results(report_dir: Path) -> list[dict[str, object]]:
    return [json.loads(path.read_text())
            for path in sorted((report_dir / "data" / "test-results").glob("*.json"))]


@pytest.fixture
def env(tmp_path: Path) -> Iterator[dict[str, str]]:
    yield instance.run_env(tmp_path / "state", platform=False)


def test_two_runs_in_a_row_show_history_in_the_second_report(
        tmp_path: Path, env: dict[str, str]) -> None:
    for attempt in (1, 2):
        done = instance.crashcart([*TINY, *instance.report_args(tmp_path)], env)
        assert done.returncode == 0, f"run {attempt}: {done.stdout}{done.stderr}"
    history_lines = (tmp_path / "history.jsonl").read_text().splitlines()
    assert len(history_lines) == 2
    results = _test_results(tmp_path / "report")
    assert results, "the second report has no test results"
    for result in results:
        history = result.get("history")
        assert isinstance(history, list) and len(history) >= 1, (result["name"], history)
    charts = json.loads((tmp_path / "report" / "widgets" / "charts.json").read_text())
    dynamics = [c for c in charts["general"].values() if c["type"] == "statusDynamics"]
    assert dynamics and len(dynamics[0]["data"]) == 2, dynamics

    # In the browser: the test's page lists the first run in its History tab.
    for url in serve_directory(tmp_path / "report"):
        with chromium_page() as page:
            page.goto(f"{url}#{results[0]['id']}")
            page.get_by_test_id("test-result-tab-history").first.click()
            item = page.get_by_test_id("test-result-history-item")
            item.first.wait_for(state="visible")
            assert item.count() == 1


def test_a_second_run_is_refused_while_one_holds_the_lock(
        tmp_path: Path, env: dict[str, str]) -> None:
    with RunLock(tmp_path / "state" / "run.lock"):
        done = instance.crashcart([*TINY, *instance.report_args(tmp_path)], env)
    assert done.returncode == 75, done.stdout + done.stderr
    assert "another `crashcart run` is in progress" in done.stdout
    assert "pid" in done.stdout
    assert not (tmp_path / "results").exists(), "the refused run wrote results"
