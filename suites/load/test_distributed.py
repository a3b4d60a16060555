"""Distributed mode: ``locust --master`` with one ``--worker`` on this machine, a short run."""

from __future__ import annotations

import csv
from pathlib import Path

import allure
import pytest

from suites.fixtures.platform import RunningPlatform
from suites.helpers.locust_process import free_port, locust_process

pytestmark = [pytest.mark.platform, pytest.mark.load, pytest.mark.slow]

SMOKE_GATES = """
[run]
max_failure_ratio = 0.05
min_rps = 1
[routes."GET /api/v1/products"]
max_failure_ratio = 0.05
"""


def test_a_master_and_one_worker_run_the_journeys_and_the_master_judges_the_gates(
        running_platform: RunningPlatform, tmp_path: Path) -> None:
    gates = tmp_path / "smoke.toml"
    gates.write_text(SMOKE_GATES)
    port = free_port()
    host = ["--host", running_platform.gateway_url]
    master_log, worker_log = tmp_path / "master.log", tmp_path / "worker.log"
    try:
        with locust_process(["--master", "--headless", "-u", "4", "-r", "4", "-t", "10s",
                             "--expect-workers", "1", "--expect-workers-max-wait", "30",
                             "--master-bind-host", "127.0.0.1", "--master-bind-port", str(port),
                             "--slo-file", str(gates), "--csv", str(tmp_path / "run"),
                             "--only-summary", *host], log=master_log) as master, \
             locust_process(["--worker", "--master-host", "127.0.0.1", "--master-port", str(port),
                             *host], log=worker_log) as worker:
            master_code = master.wait(timeout=90)
            worker_code = worker.wait(timeout=30)  # the master tells its worker to quit
    finally:
        for log in (master_log, worker_log):
            allure.attach.file(log, name=log.name, attachment_type=allure.attachment_type.TEXT)
    output = master_log.read_text()
    assert master_code == 0, output
    assert worker_code == 0, worker_log.read_text()
    assert "SLO gates: PASSED" in output, output
    with (tmp_path / "run_stats.csv").open() as stats:
        rows = {(r["Type"], r["Name"]): int(r["Request Count"]) for r in csv.DictReader(stats)}
    # the requests were made by the worker and aggregated on the master
    assert rows[("GET", "/api/v1/products")] > 0
    assert rows[("POST", "/api/v1/users")] >= 4
