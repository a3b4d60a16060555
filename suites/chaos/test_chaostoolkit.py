"""Chaos Toolkit interop: the real ``chaos run`` (chaostoolkit) drives Crashcart's fault and
invariant units through the chaos.ctk extension, on the running platform."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import allure
import httpx
import pytest

from chaos.faults import FaultContext, Ledger
from chaos.topology import REPO_ROOT

pytestmark = [pytest.mark.platform, pytest.mark.slow, allure.feature("Chaos Toolkit interop")]

EXPERIMENT = REPO_ROOT / "chaos" / "experiments" / "examples" / "ctk-order-db-latency.json"


def test_chaos_run_drives_crashcart_faults_and_probes(chaos_context: FaultContext,
                                                      tmp_path: Path) -> None:
    chaos_cli = shutil.which("chaos", path=str(Path(os.sys.executable).parent))
    assert chaos_cli, "the chaostoolkit `chaos` command is not installed (test extra)"
    journal_path = tmp_path / "journal.json"
    done = subprocess.run(
        [chaos_cli, "--no-log-file", "run", "--journal-path", str(journal_path),
         "--rollback-strategy", "always", str(EXPERIMENT)],
        cwd=tmp_path, env={**os.environ, **chaos_context.env,
                           "CRASHCART_STATE_DIR": str(chaos_context.state_dir)},
        capture_output=True, text=True, timeout=240)
    allure.attach(done.stdout + done.stderr, name="chaos run output",
                  attachment_type=allure.attachment_type.TEXT)
    journal = json.loads(journal_path.read_text())
    allure.attach(json.dumps(journal, indent=2), name="chaostoolkit journal",
                  attachment_type=allure.attachment_type.JSON)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert journal["status"] == "completed" and not journal["deviated"]
    assert journal["steady_states"]["before"]["steady_state_met"]
    assert journal["steady_states"]["after"]["steady_state_met"]
    runs = {r["activity"]["name"]: r for r in journal["run"]}
    injected = runs["slow-order-database"]["output"]
    assert injected["description"] == "latency(latency_ms=200, jitter_ms=0) on order_to_db " \
                                      "[downstream]"
    in_force = runs["faults-in-force"]["output"]
    assert in_force["toxics"] == ["order_to_db/crashcart_latency_x_downstream"]
    assert runs["checkout-under-latency"]["output"] is True
    assert runs["end-of-fault"]["output"]["undone"] == [injected["description"]]
    rollback = journal["rollbacks"][0]
    assert rollback["status"] == "succeeded" and rollback["output"]["errors"] == []
    proxies = httpx.get(f"{chaos_context.toxiproxy_url}/proxies", timeout=5).json()
    assert not proxies["order_to_db"]["toxics"]
    assert not Ledger(chaos_context.state_dir).snapshot()
