"""Rollbacks always run: when a phase fails halfway and when the run is interrupted (Ctrl-C),
unlike Chaos Toolkit (its issues #195/#258); the journal says what happened."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import allure
import httpx
import pytest
import yaml

from chaos.experiments import Experiment, Phase, Workload, run_experiment
from chaos.faults import FaultContext, Ledger
from chaos.topology import REPO_ROOT

pytestmark = [pytest.mark.platform, pytest.mark.slow, allure.feature("Chaos rollbacks")]


def _mesh_clean(ctx: FaultContext) -> bool:
    proxies = httpx.get(f"{ctx.toxiproxy_url}/proxies", timeout=5).json()
    return not any(p["toxics"] or not p["enabled"] for p in proxies.values())


def test_a_phase_that_fails_halfway_still_rolls_everything_back(chaos_context: FaultContext,
                                                                 tmp_path: Path) -> None:
    experiment = Experiment(
        title="second fault of the phase cannot be applied", seed=3, warmup_s=0.5,
        workload=Workload(checkouts_per_s=1, workers=1, buyers=1, products=1),
        method=[Phase(name="one good fault, one impossible", duration_s=30, faults=[
            {"kind": "latency", "edges": ["order_to_db"], "latency_ms": 100},
            {"kind": "proxy_down", "edges": ["no_such_edge"]}])],
        invariants=["outbox_drained"])
    result = run_experiment(experiment, ctx=chaos_context, journal_path=tmp_path / "j.json")
    journal = json.loads(result.path.read_text())
    allure.attach(result.path.read_text(), name="journal",
                  attachment_type=allure.attachment_type.JSON)
    assert journal["status"] == "failed" and "no edge matches" in journal["error"]
    kinds = [(s["kind"], s["ok"]) for s in journal["steps"]]
    assert ("method", False) in kinds and ("rollback", True) in kinds, kinds
    assert [f["removed_by"] for f in journal["faults"]] == ["controller"]
    assert _mesh_clean(chaos_context) and not Ledger(chaos_context.state_dir).snapshot()


def test_ctrl_c_halts_the_run_and_the_rollbacks_run(chaos_context: FaultContext,
                                                    tmp_path: Path) -> None:
    doc = {"title": "interrupted", "configuration": {"seed": 9, "warmup_s": 0.5},
           "workload": {"checkouts_per_s": 1, "workers": 1, "buyers": 1, "products": 1},
           "method": [{"name": "long", "duration_s": 120, "ttl_s": 300,
                       "faults": [{"kind": "proxy_down", "edges": ["payment_to_broker"]},
                                  {"kind": "latency", "edges": ["gateway_to_*"],
                                   "latency_ms": 20}]}],
           "invariants": ["outbox_drained"]}
    path = tmp_path / "experiment.yaml"
    path.write_text(yaml.safe_dump(doc))
    journal_path = tmp_path / "journal.json"
    controller = subprocess.Popen(
        [sys.executable, "-m", "chaos.cli", "--state-dir", str(chaos_context.state_dir),
         "chaos", "run", str(path), "--journal", str(journal_path)],
        cwd=REPO_ROOT, env={**os.environ, **chaos_context.env}, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60
        while len(Ledger(chaos_context.state_dir).snapshot()) < 2 and \
                time.monotonic() < deadline:
            time.sleep(0.2)
        assert not _mesh_clean(chaos_context), "the faults never came"
        controller.send_signal(signal.SIGINT)
        interrupted_at = time.monotonic()
        output, _ = controller.communicate(timeout=60)
        took = time.monotonic() - interrupted_at
    finally:
        if controller.poll() is None:
            controller.kill()
            controller.wait()
    allure.attach(output, name="crashcart chaos run output",
                  attachment_type=allure.attachment_type.TEXT)
    assert controller.returncode == 130, output
    journal = json.loads(journal_path.read_text())
    assert journal["status"] == "interrupted"
    assert {f["removed_by"] for f in journal["faults"]} == {"controller"}
    assert any(s["kind"] == "rollback" and s["ok"] for s in journal["steps"])
    # Removed by the rollbacks at once, not by the 300 s TTL.
    assert took < 30 and _mesh_clean(chaos_context), output
    assert not Ledger(chaos_context.state_dir).snapshot()
