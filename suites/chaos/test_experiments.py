"""The chaos suite: one experiment per fault family against the healthy platform, each under
a checkout workload, each passing every invariant it names; journals go to the report.

The experiments are the example files in chaos/experiments/examples/ (what
``crashcart chaos run FILE`` runs), so the documented examples cannot drift.
"""
from __future__ import annotations

import json

import allure
import pytest

from chaos.experiments import load_experiment, run_experiment
from chaos.faults import FaultContext, Ledger
from chaos.topology import REPO_ROOT

pytestmark = [pytest.mark.platform, pytest.mark.slow, allure.feature("Chaos experiments")]

EXAMPLES = REPO_ROOT / "chaos" / "experiments" / "examples"
FAMILIES = {
    "toxics": "payment-db-latency.yaml",
    "proxy_down": "product-db-cut.yaml",
    "process": "payment-service-crash.yaml",
    "broker": "broker-channel-loss.yaml",
}


def _summary(journal: dict[str, object]) -> str:
    lines = [f"status {journal['status']}, recovery {journal['recovery']}"]
    for verdict in journal["invariants"]:  # type: ignore[attr-defined]
        mark = "ok  " if verdict["ok"] else "FAIL"
        lines.append(f"{mark} {verdict['invariant']}: {verdict['breaches'][:5]}")
    return "\n".join(lines)


@pytest.mark.parametrize("family", list(FAMILIES), ids=list(FAMILIES))
def test_the_healthy_platform_passes_the_experiment(family: str,
                                                    chaos_context: FaultContext) -> None:
    experiment = load_experiment(EXAMPLES / FAMILIES[family])
    lines: list[str] = []
    with allure.step(f"run {experiment.title!r} (seed {experiment.seed})"):
        # The journal stays under <state dir>/chaos/journals/ (kept for a post-mortem).
        result = run_experiment(experiment, ctx=chaos_context, progress=lines.append)
    journal = json.loads(result.path.read_text())
    allure.attach(result.path.read_text(), name=f"journal: {experiment.title}",
                  attachment_type=allure.attachment_type.JSON)
    allure.attach("\n".join(lines), name="progress", attachment_type=allure.attachment_type.TEXT)
    assert journal["status"] == "completed", _summary(journal)
    assert journal["seed"] == experiment.seed
    assert journal["faults"] and all(f["removed_by"] == "controller" for f in journal["faults"])
    assert journal["workload"]["accepted_orders"] > 0
    assert journal["recovery"]["recovery_s"] <= experiment.bounds.recovery_within_s
    assert not Ledger(chaos_context.state_dir).snapshot(), "a fault is still recorded"
    assert not any(p["toxics"] or not p["enabled"]
                   for p in chaos_context.admin.proxies().values()), "the mesh is not clean"
