"""No fault outlives its controller: SIGKILL the harness process in the middle of an
experiment, or freeze it (SIGSTOP), and the watchdog removes every fault — toxics, a downed
proxy, a paused service — by the fault's time to live at the latest.

The controller is the real ``crashcart chaos run`` process; what is in force is observed
from outside: the Toxiproxy admin API over HTTP and the process state of the service.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import allure
import httpx
import psutil
import pytest
import yaml

from chaos.faults import FaultContext, Ledger
from chaos.topology import REPO_ROOT

pytestmark = [pytest.mark.platform, pytest.mark.slow, allure.feature("Chaos watchdog")]

TTL_S = 10.0
MARGIN_S = 6.0
"""Generous: the watchdog polls every 0.25 s, but resuming and re-checking take time here."""


def _experiment(path: Path) -> Path:
    doc = {
        "title": "long phase for the watchdog test",
        "configuration": {"seed": 5, "warmup_s": 0.5},
        "workload": {"checkouts_per_s": 1, "workers": 1, "buyers": 1, "products": 1},
        "method": [{"type": "action", "name": "three faults for a long time",
                    "faults": [{"kind": "latency", "edges": ["*_to_db"], "latency_ms": 50},
                               {"kind": "proxy_down", "edges": ["user_to_broker"]},
                               {"kind": "pause", "service": "user"}],
                    "duration_s": 120, "ttl_s": TTL_S}],
        "invariants": ["outbox_drained"],
    }
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def _in_force(ctx: FaultContext) -> dict[str, Any]:
    proxies = httpx.get(f"{ctx.toxiproxy_url}/proxies", timeout=5).json()
    state = ctx.backend.state.load()
    paused = [c.name for c in (state.components if state else [])
              if psutil.pid_exists(c.pid) and psutil.Process(c.pid).status()
              == psutil.STATUS_STOPPED]
    return {"toxics": sorted(f"{n}/{t['name']}" for n, p in proxies.items() for t in p["toxics"]),
            "disabled": sorted(n for n, p in proxies.items() if not p["enabled"]),
            "paused": paused}


def _wait(predicate: Any, timeout_s: float) -> float | None:
    started = time.monotonic()
    while time.monotonic() - started < timeout_s:
        if predicate():
            return time.monotonic() - started
        time.sleep(0.1)
    return None


def _start_controller(tmp_path: Path, ctx: FaultContext) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "chaos.cli", "--state-dir", str(ctx.state_dir), "chaos",
               "run", str(_experiment(tmp_path / "experiment.yaml")),
               "--journal", str(tmp_path / "journal.json")]
    log = open(tmp_path / "controller.log", "wb")
    return subprocess.Popen(command, cwd=REPO_ROOT, stdout=log, stderr=subprocess.STDOUT,
                            env={**os.environ, **ctx.env})


def _all_three_in_force(ctx: FaultContext) -> bool:
    now = _in_force(ctx)
    return len(Ledger(ctx.state_dir).snapshot()) == 3 and len(now["toxics"]) >= 4 \
        and now["disabled"] == ["user_to_broker"] and now["paused"] == ["user"]


def _nothing_in_force(ctx: FaultContext) -> bool:
    now = _in_force(ctx)
    return not now["toxics"] and not now["disabled"] and not now["paused"]


@pytest.mark.parametrize("how", ["sigkill", "sigstop"])
def test_no_fault_outlives_a_dead_or_frozen_controller(how: str, chaos_context: FaultContext,
                                                       tmp_path: Path) -> None:
    ctx = chaos_context
    controller = _start_controller(tmp_path, ctx)
    try:
        with allure.step("the experiment's phase puts three faults in force"):
            assert _wait(lambda: _all_three_in_force(ctx), 60.0) is not None, \
                (_in_force(ctx), (tmp_path / "controller.log").read_text()[-2000:])
            records = Ledger(ctx.state_dir).snapshot()
            assert len(records) == 3
            expires = min(r.expires_at for r in records)
            allure.attach(str(_in_force(ctx)), name="in force before",
                          attachment_type=allure.attachment_type.TEXT)
        with allure.step(f"{how} the controller in the middle of the phase"):
            os.kill(controller.pid, signal.SIGKILL if how == "sigkill" else signal.SIGSTOP)
            stopped_at = time.time()
        with allure.step("every fault is gone by the TTL (plus a margin), with no help"):
            bound = max(0.0, expires - time.time()) + MARGIN_S
            took = _wait(lambda: _nothing_in_force(ctx), bound)
            assert took is not None, f"still in force {bound:.1f}s later: {_in_force(ctx)}"
            healed_after = time.time() - stopped_at
            allure.attach(f"{how}: healed {healed_after:.1f}s after; TTL ended "
                          f"{expires - stopped_at:.1f}s after", name="timing",
                          attachment_type=allure.attachment_type.TEXT)
            assert not Ledger(ctx.state_dir).snapshot()
            if how == "sigstop":
                # Frozen, not dead: only the TTL can have healed it.
                assert time.time() >= expires - 0.5, "healed before the TTL passed"
            assert psutil.Process(controller.pid).status() in (
                psutil.STATUS_STOPPED, psutil.STATUS_ZOMBIE, psutil.STATUS_DEAD)
    finally:
        if controller.poll() is None:
            os.kill(controller.pid, signal.SIGCONT)
            controller.kill()
        controller.wait(timeout=10)
