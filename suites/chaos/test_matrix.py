"""The fault matrix, seeded replay and shrinking.

Default run: the matrix's shape (covering tier, caller timeouts read from the topology,
Wilson intervals, ddmin), two real cells of the covering tier against the healthy platform,
a failing journal replayed through ``crashcart chaos replay``, and a planted failing
schedule of four real faults shrunk to the one that matters. The whole covering tier is
``crashcart chaos matrix`` (~3-4 min), every cell ``--full``.
"""
from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import allure
import httpx
import pytest

from chaos.experiments import Experiment, Phase, run_experiment
from chaos.experiments.model import Workload
from chaos.faults import FaultContext, FaultSession, Ledger, fault_from_spec
from chaos.matrix import covering_matrix, full_matrix, run_matrix, table, wilson_interval
from chaos.matrix.cells import NETWORK_FAULTS, PHASES, PROCESS_FAULTS, network_cell
from chaos.matrix.replay import load_journal, same_outcome
from chaos.matrix.report import document, write
from chaos.matrix.run import estimated_s, shard
from chaos.matrix.shrink import ddmin, shrink
from chaos.matrix.timeouts import caller_timeout_s
from chaos.topology import REPO_ROOT, load_topology

pytestmark = [allure.feature("Chaos matrix")]
# Covering cells: a db edge with its saga in flight, a paused service after the checkout, and
# two regression cells: the gateway's 502 (an unreachable service now answers a declared 503)
# and readiness judged on missing samples (a broker reconnect backing off 2 s after the cut
# was restored used to count as "not ready again", the sampler having stopped already).
COVERING_SUBSET = ("gateway_to_user:down@before", "product_to_db:slicer@in_flight",
                   "product:pause@after")
FULL_MATRIX_REGRESSIONS = ("user_to_broker:down@before",)
SUBSET = COVERING_SUBSET + FULL_MATRIX_REGRESSIONS


# ---- the matrix's shape (no platform) ------------------------------------------------------
def test_covering_tier_meets_every_edge_fault_phase_and_service() -> None:
    topology = load_topology()
    cells = covering_matrix(topology)
    network = [c for c in cells if c.edge_kind != "process"]
    assert sorted(c.target for c in network) == sorted(topology.proxy_names)
    assert {c.fault for c in network} == set(NETWORK_FAULTS)
    assert {c.phase for c in cells} == set(PHASES)
    assert {c.target for c in cells if c.edge_kind == "process"} == set(topology.services)
    assert {c.fault for c in cells if c.edge_kind == "process"} == set(PROCESS_FAULTS)
    assert {c.edge_kind for c in network} == {"gateway", "service", "db", "broker"}
    assert len({c.id for c in cells}) == len(cells)
    full = full_matrix(topology)
    assert len(full) == len(topology.edges) * len(NETWORK_FAULTS) * len(PHASES) + \
        len(topology.services) * len(PROCESS_FAULTS) * len(PHASES)
    assert {c.id for c in cells} <= {c.id for c in full}
    for cell in cells:  # every cell is a valid, round-tripping experiment
        experiment = cell.experiment(1)
        assert Experiment.from_dict(experiment.to_dict()) == experiment
        assert experiment.seed == cell.experiment(1).seed != cell.experiment(1, 1).seed


def test_latencies_straddle_the_callers_timeout_read_from_the_topology() -> None:
    topology = load_topology()
    order = topology.services["order"]
    slower = dataclasses.replace(order, env={**order.env, "HTTP_TIMEOUT_S": "0.7",
                                             "DB_COMMAND_TIMEOUT_S": "1.5"})
    changed = dataclasses.replace(topology, services={**topology.services, "order": slower})
    assert caller_timeout_s(changed, changed.edge("order", "product")) == 0.7
    assert caller_timeout_s(changed, changed.edge("order", "db")) == 1.5
    assert caller_timeout_s(changed, changed.edge("gateway", "order")) == \
        topology.gateway.read_timeout_s
    for edge in changed.edges:
        timeout_ms = caller_timeout_s(changed, edge) * 1000
        below = network_cell(changed, edge, "latency_below", "before").fault_spec
        above = network_cell(changed, edge, "latency_above", "before")
        assert below["latency_ms"] < timeout_ms < above.fault_spec["latency_ms"], edge.name
        assert above.window_s > timeout_ms / 1000, edge.name


def test_shards_split_the_cells_and_balance_their_time() -> None:
    cells = full_matrix(load_topology())
    parts = [shard(cells, k, 3) for k in range(3)]
    assert sorted(c.id for part in parts for c in part) == sorted(c.id for c in cells)
    loads = [sum(estimated_s(c) for c in part) for part in parts]
    assert max(loads) - min(loads) <= max(estimated_s(c) for c in cells)
    assert [c.id for c in parts[0]] == [c.id for c in cells if c in parts[0]]  # matrix order


def test_a_matrix_document_reads_back_into_the_same_results() -> None:
    # What a parallel run does with its shards' parts: read each back, rank them together.
    from chaos.matrix.report import Breach, CellResult, RunOutcome, results_from_document

    cells = covering_matrix(load_topology())[:3]
    results = [CellResult(cell=cells[0], runs=[RunOutcome(
        seed=5, status="deviated", journal="j0.json", failed_invariants=["api_fails_well"],
        breaches=[Breach(cell=cells[0].id, invariant="api_fails_well",
                         evidence=["POST /api/v1/orders at +1.0s: answered 500"], seed=5,
                         journal="j0.json")], recovery_s=1.5, duration_s=9.0)]),
        CellResult(cell=cells[1], runs=[RunOutcome(seed=6, status="completed",
                                                   journal="j1.json", recovery_s=0.5)])]
    doc = document(results, tier="full", base_seed=1, repeat=1, started_at="", duration_s=1.0,
                   complete=False)
    again = results_from_document(json.loads(json.dumps(doc)), {c.id: c for c in cells})
    assert document(again, tier="full", base_seed=1, repeat=1, started_at="", duration_s=1.0,
                    complete=False) == doc
    assert table(again) == table(results)


def test_wilson_interval() -> None:
    assert wilson_interval(0, 10) == (0.0, pytest.approx(0.2775, abs=1e-3))
    low, high = wilson_interval(3, 10)
    assert low == pytest.approx(0.1078, abs=1e-3) and high == pytest.approx(0.6032, abs=1e-3)
    assert wilson_interval(5, 5)[1] == 1.0 and wilson_interval(5, 5)[0] > 0.5
    assert wilson_interval(0, 100)[1] < wilson_interval(0, 10)[1]


def test_ddmin_finds_the_culprits() -> None:
    calls: list[list[int]] = []

    def fails(subset: list[int]) -> bool:
        calls.append(subset)
        return 3 in subset and 6 in subset

    assert sorted(ddmin(list(range(8)), fails)) == [3, 6]
    assert ddmin([1, 2, 3], lambda s: True) == [1]


# ---- real cells ----------------------------------------------------------------------------
@pytest.mark.platform
@pytest.mark.slow
def test_default_tier_subset_passes_on_the_healthy_platform(chaos_context: FaultContext,
                                                            tmp_path: Path) -> None:
    by_id = {c.id: c for c in full_matrix(chaos_context.topology)}
    covering = {c.id for c in covering_matrix(chaos_context.topology)}
    assert set(COVERING_SUBSET) <= covering
    cells = [by_id[cell_id] for cell_id in SUBSET]
    lines: list[str] = []
    started = time.monotonic()
    results = run_matrix(cells, chaos_context, base_seed=1, journal_dir=tmp_path,
                         progress=lines.append)
    doc = document(results, tier="covering subset", base_seed=1, repeat=1,
                   started_at="", duration_s=time.monotonic() - started, complete=True)
    out = write(doc, tmp_path / "matrix.json")
    allure.attach(out.read_text(), name="matrix result",
                  attachment_type=allure.attachment_type.JSON)
    allure.attach(table(results), name="matrix table", attachment_type=allure.attachment_type.TEXT)
    allure.attach("\n".join(lines), name="progress", attachment_type=allure.attachment_type.TEXT)
    assert doc["breaches"] == [], table(results)
    assert [c["cell"] for c in doc["cells"]] == list(SUBSET)
    for result in results:
        (run,) = result.runs
        assert run.status == "completed"
        assert run.recovery_s is not None and run.recovery_s <= 60.0
        journal = json.loads(Path(run.journal).read_text())
        assert journal["seed"] == result.cell.experiment(1).seed
        assert journal["toxiproxy"] == {"server": "embedded", "seed": journal["seed"],
                                        "per_connection_reproducible": True}
        assert journal["experiment"]["method"][0]["faults"] == [result.cell.fault_spec]
        (phase,) = [s for s in journal["steps"] if s["name"].startswith("phase:")]
        checkout = phase["detail"]["checkout"]
        assert checkout["phase"] == result.cell.phase and checkout["order_id"] is not None
        if result.cell.phase == "after":
            assert checkout["status_at_injection"] == "PAID", checkout
        # the tracked order is judged with the others: it is among the accepted orders
        assert journal["faults"][0]["removed_by"] == "controller"
        if "readiness_truthful" in journal["experiment"]["invariants"]:
            readiness = next(i for i in journal["invariants"]
                             if i["invariant"] == "readiness_truthful")
            (row,) = readiness["details"].values()
            # judged on samples taken after the cut was restored, not on their absence
            assert row["service_recovered_after_s"] is not None, row
            assert row["gateway_recovered_after_s"] is not None, row
        # the fault met traffic: requests were answered (or failed) while it was in force
        assert journal["faults"][0]["traffic_in_window"]["requests"] >= 3, journal["faults"]
    assert not Ledger(chaos_context.state_dir).snapshot()


@pytest.mark.platform
@pytest.mark.slow
def test_replay_of_a_failing_journal_fails_the_same_way(chaos_context: FaultContext,
                                                        tmp_path: Path) -> None:
    # A cell with a deliberately strict API budget: every order placed while order->user
    # answers 1 s late is "too slow", so api_fails_well fails (a planted, deterministic breach).
    cell = network_cell(chaos_context.topology, chaos_context.topology.edge("order", "user"),
                        "latency_below", "before")
    experiment = cell.experiment(7)
    experiment.bounds.api_budget_s = 0.3
    experiment.invariants = ["recovery", "orders_complete", "api_fails_well"]
    first = run_experiment(experiment, ctx=chaos_context, journal_path=tmp_path / "first.json")
    recorded = load_journal(first.path)
    assert first.journal.status == "deviated"
    assert "api_fails_well" in recorded.failed_invariants
    env = {**os.environ, **chaos_context.env}
    replayed_path = tmp_path / "replay.json"
    done = subprocess.run([sys.executable, "-m", "chaos.cli", "--state-dir",
                           str(chaos_context.state_dir), "chaos", "replay", str(first.path),
                           "--out", str(replayed_path)], cwd=REPO_ROOT, env=env,
                          capture_output=True, text=True, timeout=180)
    allure.attach(done.stdout + done.stderr, name="crashcart chaos replay",
                  attachment_type=allure.attachment_type.TEXT)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "same outcome as recorded" in done.stdout, done.stdout
    replayed = json.loads(replayed_path.read_text())
    assert replayed["seed"] == experiment.seed
    assert replayed["toxiproxy"]["seed"] == experiment.seed  # the server's coins too
    assert replayed["experiment"]["method"] == first.journal.experiment["method"]
    assert same_outcome(recorded, replayed)
    budget = [v for v in replayed["invariants"] if v["invariant"] == "api_fails_well"]
    assert budget and not budget[0]["ok"] and budget[0]["breaches"]


@pytest.mark.platform
@pytest.mark.slow
def test_a_planted_failing_schedule_shrinks_to_the_fault_that_matters(
        chaos_context: FaultContext, tmp_path: Path) -> None:
    # Four real faults in two phases; the planted invariant "product stays ready" (product's
    # own /health/ready answers 200 throughout) only breaks when product_to_db is cut.
    schedule = Experiment(
        title="planted schedule", seed=5, workload=Workload(),
        method=[
            Phase(name="noise", duration_s=4.0, faults=[
                {"kind": "latency", "edges": ["order_to_db"], "latency_ms": 50},
                {"kind": "slicer", "edges": ["gateway_to_user"], "average_size_bytes": 64}]),
            Phase(name="cut", duration_s=4.0, faults=[
                {"kind": "bandwidth", "edges": ["payment_to_broker"], "rate_kb_per_s": 100},
                {"kind": "proxy_down", "edges": ["user_to_broker", "product_to_db"]}]),
        ]).validate()
    ready_url = f"{chaos_context.topology.services['product'].url}/health/ready"

    def product_ready_holds() -> bool:
        deadline = time.monotonic() + 3.0
        while time.monotonic() < deadline:
            try:
                if httpx.get(ready_url, timeout=2.0).status_code != 200:
                    return False
            except httpx.HTTPError:
                return False
            time.sleep(0.1)
        return True

    def planted_oracle(candidate: Experiment) -> set[str]:
        with FaultSession(chaos_context) as session:
            for phase in candidate.method:
                for spec in phase.faults:
                    session.inject(fault_from_spec(spec), ttl_s=30)
            broken = not product_ready_holds()
        deadline = time.monotonic() + 15.0  # the next trial starts from a ready product
        while time.monotonic() < deadline and not product_ready_holds_quick(ready_url):
            time.sleep(0.2)
        return {"product_ready"} if broken else set()

    lines: list[str] = []
    result = shrink(schedule, "product_ready", planted_oracle,
                    proxy_names=chaos_context.topology.proxy_names, progress=lines.append)
    out = result.write(tmp_path / "shrunk.json")
    allure.attach(out.read_text(), name="shrunk journal",
                  attachment_type=allure.attachment_type.JSON)
    allure.attach("\n".join(lines), name="trials", attachment_type=allure.attachment_type.TEXT)
    assert [p.faults for p in result.minimal.method] == \
        [[{"kind": "proxy_down", "edges": ["product_to_db"]}]], "\n".join(lines)
    assert result.minimal.method[0].duration_s == 0.5  # window halved down to the floor
    assert result.trials[0].failed and any(not t.failed for t in result.trials)
    replayable = load_journal(out)
    assert replayable.experiment.seed == schedule.seed
    assert replayable.experiment.method == result.minimal.method
    assert replayable.failed_invariants == ["product_ready"]


def product_ready_holds_quick(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2.0).status_code == 200
    except httpx.HTTPError:
        return False


def test_a_checkout_phase_round_trips_and_a_bad_one_is_refused() -> None:
    from chaos.experiments import ExperimentError

    cell = covering_matrix(load_topology())[0]
    doc = cell.experiment(1).to_dict()
    assert doc["method"][0]["checkout"] == cell.phase
    doc["method"][0]["checkout"] = "during"
    with pytest.raises(ExperimentError, match="checkout must be one of"):
        Experiment.from_dict(doc)


def test_the_command_lists_the_tiers_and_refuses_a_non_journal(tmp_path: Path) -> None:
    def crashcart(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "chaos.cli", "--state-dir", str(tmp_path),
                               "chaos", *args], cwd=REPO_ROOT, capture_output=True, text=True,
                              timeout=60)

    covering = crashcart("matrix", "--list")
    assert covering.returncode == 0, covering.stderr
    expected = len(covering_matrix(load_topology()))
    assert covering.stdout.strip().splitlines()[-1].startswith(f"{expected} cells")
    only = crashcart("matrix", "--full", "--list", "--only", "order_to_db:*")
    assert only.stdout.strip().splitlines()[-1].startswith(f"{len(NETWORK_FAULTS) * 3} cells")
    bogus = tmp_path / "not-a-journal.json"
    bogus.write_text('{"title": "x"}')
    refused = crashcart("replay", str(bogus))
    assert refused.returncode == 2 and "not a journal" in refused.stderr
    assert "not a journal" not in refused.stdout   # usage errors go to stderr
    shards = [crashcart("matrix", "--full", "--list", "--shard", f"{k}/3") for k in range(3)]
    listed = [line.split()[0] for shard in shards for line in shard.stdout.splitlines()[:-1]]
    assert sorted(listed) == sorted(c.id for c in full_matrix(load_topology()))
    bad = crashcart("matrix", "--list", "--shard", "3/3")
    assert bad.returncode == 2 and "shard 3/3" in bad.stderr


@pytest.mark.parametrize("action", [
    ["matrix", "--only", "user_to_db:*"],
    ["run", str(REPO_ROOT / "chaos" / "experiments" / "examples" / "product-db-cut.yaml")],
], ids=["matrix", "run"])
def test_with_no_platform_the_chaos_actions_stop_at_once_and_say_so(
        tmp_path: Path, action: list[str]) -> None:
    """Regression: with nothing listening every matrix cell waited out its steady-state
    probe and failed with "connection refused" (~30 s a cell, 96 cells for '*_to_db:*')."""
    env = {**os.environ, "CRASHCART_PORT_OFFSET": "9400"}  # an instance nobody started
    started = time.monotonic()
    answer = subprocess.run(
        [sys.executable, "-m", "chaos.cli", "--state-dir", str(tmp_path), "chaos", *action],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert answer.returncode == 3, (answer.stdout, answer.stderr)
    assert "does not answer" in answer.stderr and "crashcart up" in answer.stderr
    assert time.monotonic() - started < 20
    assert not (tmp_path / "chaos").exists()  # nothing run, no journals
