"""Ctrl-C halts ``crashcart run`` cleanly: SIGINT while a fault is in force leaves no fault,
no process of the run and no platform listener behind, and the partial report is written."""

from __future__ import annotations

import re
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from chaos.backends.local import LocalBackend
from chaos.backends.local.ports import port_is_free
from chaos.faults import Ledger
from chaos.run import mesh
from chaos.run.leftovers import processes_of_run
from chaos.run.results import read_results
from suites.report import instance

pytestmark = pytest.mark.slow

SELECTION = "test_operations and gateway or test_resilience"
"""A quick test, then the resilience tests, which hold faults for seconds (the moment to
interrupt: the first of them cuts the broker link)."""


def _wait_for_fault(backend: LocalBackend, toxiproxy_url: str, proc: subprocess.Popen[str],
                    log: Path, *, timeout_s: float = 150.0) -> list[str]:
    """Once the layer runs (the platform is up), the first fault a test applies (on the mesh
    or to a process)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and proc.poll() is None:
        if "] layer platform" in log.read_text():
            faults = mesh.faults_in_force(backend, toxiproxy_url)
            if faults:
                return faults
        time.sleep(0.05)
    raise AssertionError(f"no fault appeared (run exit {proc.poll()}):\n{log.read_text()[-3000:]}")


def _interrupt_mid_fault(work: Path, env: dict[str, str]) -> tuple[str, str, list[str]]:
    """Start the run, SIGINT it while a fault is in force; returns (output, run id, faults)."""
    log = work / "run.out"
    topology = instance.topology(env)
    with open(log, "w") as out:
        proc = subprocess.Popen(
            instance.crashcart_command("run", "--only", "platform", "--seed", "7",
                                       f"--pytest-arg=-k={SELECTION}",
                                       *instance.report_args(work)),
            env=env, stdout=out, stderr=subprocess.STDOUT, text=True)
        try:
            backend = LocalBackend(topology, work / "state")
            faults = _wait_for_fault(backend, topology.toxiproxy_url, proc, log)
            proc.send_signal(signal.SIGINT)
            code = proc.wait(timeout=180)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    output = log.read_text()
    assert code == 130, f"exit {code}:\n{output[-4000:]}"
    found = re.search(r"crashcart run ([0-9a-f]{12}):", output)
    assert found, output[-2000:]
    return output, found.group(1), faults


def _assert_partial_report(work: Path, output: str) -> None:
    assert (work / "report" / "index.html").exists(), output[-3000:]
    env_file = (work / "results" / "environment.properties").read_text()
    assert "run.interrupted=yes" in env_file
    results = read_results(work / "results")
    assert any(r["status"] == "passed" for r in results), "no finished test in the report"
    assert any(str(r["name"]).startswith("run interrupted during layer platform")
               for r in results)


@pytest.fixture
def run_work(tmp_path: Path) -> Iterator[tuple[Path, dict[str, str]]]:
    env = instance.run_env(tmp_path / "state")
    try:
        yield tmp_path, env
    finally:
        instance.crashcart(["down"], env)


def test_sigint_with_the_platform_started_by_the_run_leaves_nothing_behind(
        run_work: tuple[Path, dict[str, str]]) -> None:
    work, env = run_work
    output, run_id, faults = _interrupt_mid_fault(work, env)
    assert faults, "the interrupt came while a fault was in force"
    assert "platform stopped" in output, output[-3000:]
    assert processes_of_run(run_id) == [], "a process of the run outlived it"
    topology = instance.topology(env)
    held = {name: port for name, port in topology.listening_ports().items()
            if not port_is_free(port)}
    assert held == {}, f"platform ports still listening: {held}"
    assert not (work / "state" / "state.json").exists()
    assert Ledger(work / "state").snapshot() == []
    _assert_partial_report(work, output)


def test_sigint_with_a_reused_platform_heals_every_fault_and_leaves_it_up(
        run_work: tuple[Path, dict[str, str]]) -> None:
    work, env = run_work
    up = instance.crashcart(["up"], env)
    assert up.returncode == 0, up.stdout + up.stderr
    backend = LocalBackend(instance.topology(env), work / "state")
    before = {row.component for row in backend.status()}

    output, run_id, faults = _interrupt_mid_fault(work, env)
    assert faults
    toxiproxy_url = instance.topology(env).toxiproxy_url
    assert mesh.mesh_faults(toxiproxy_url) == [], "a toxic or a disabled proxy was left"
    rows = backend.status()
    assert {row.component for row in rows} == before, "the reused platform changed"
    assert all(row.up and row.ready and not row.paused for row in rows), rows
    assert processes_of_run(run_id) == []
    assert Ledger(work / "state").snapshot() == []
    answer = httpx.get(f"{instance.topology(env).gateway_url}/health", timeout=10)
    assert answer.status_code == 200, answer.text
    _assert_partial_report(work, output)
