"""The declarative experiment: the Python object and its YAML/JSON document are the same
thing; malformed documents are refused with the field named. No platform needed."""
from __future__ import annotations

import json
from pathlib import Path

import allure
import pytest
import yaml

from chaos.experiments import (
    Experiment,
    ExperimentError,
    Phase,
    Rollback,
    SteadyState,
    Workload,
    load_experiment,
)
from chaos.faults import FAULTS, fault_from_spec, to_spec
from chaos.invariants import Bounds
from chaos.topology import REPO_ROOT

pytestmark = [allure.feature("Chaos experiments: model")]

EXAMPLES = sorted((REPO_ROOT / "chaos" / "experiments" / "examples").glob("*.yaml"))


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_every_example_round_trips_through_its_document_form(path: Path, tmp_path: Path) -> None:
    experiment = load_experiment(path)
    assert Experiment.from_dict(experiment.to_dict()) == experiment
    as_json = tmp_path / "same.json"
    as_json.write_text(json.dumps(experiment.to_dict()))
    assert load_experiment(as_json) == experiment
    again = tmp_path / "same.yaml"
    again.write_text(yaml.safe_dump(experiment.to_dict()))
    assert load_experiment(again) == experiment


def test_the_python_object_equals_the_yaml_file() -> None:
    built = Experiment(
        title="Payment database latency during checkouts",
        description="400 ms (±100 ms) on every reply from PostgreSQL to payment-service while "
                    "a checkout workload runs; charges must stay exactly-once and every order "
                    "must complete.",
        tags=["toxics"], seed=11, warmup_s=1.5,
        workload=Workload(checkouts_per_s=4, workers=2, buyers=2, products=2),
        method=[Phase(name="slow payment database", duration_s=6, ttl_s=45, faults=[
            {"kind": "latency", "edges": ["payment_to_db"], "stream": "downstream",
             "latency_ms": 400, "jitter_ms": 100}])],
        steady_state=SteadyState(probes=["platform_ready", "checkout_succeeds"]),
        rollbacks=[Rollback(name="heal every fault and component", action="heal")],
        invariants=["recovery", "orders_complete", "payments_match_ledger", "stock_conserved",
                    "terminal_states_final", "outbox_drained", "dead_letters_accounted",
                    "no_unroutable_events", "api_fails_well"],
        bounds=Bounds())
    loaded = load_experiment(REPO_ROOT / "chaos/experiments/examples/payment-db-latency.yaml")
    assert built == loaded


BROKEN = {
    "unknown fault kind": ({"method": [{"name": "p", "duration_s": 1,
                                        "faults": [{"kind": "meteor"}]}]}, "unknown fault kind"),
    "unknown fault field": ({"method": [{"name": "p", "duration_s": 1, "faults": [
        {"kind": "latency", "edges": ["x"], "latency": 5}]}]}, "unknown field(s) latency"),
    "unknown invariant": ({"invariants": ["money_printed"]}, "unknown invariant 'money_printed'"),
    "bad rollback": ({"rollbacks": [{"name": "r", "action": "pray"}]}, "unknown action 'pray'"),
    "zero duration": ({"method": [{"name": "p", "duration_s": 0, "faults": []}]},
                      "duration_s must be > 0"),
    "no method": ({"method": []}, "method needs at least one phase"),
}


@pytest.mark.parametrize("case", list(BROKEN), ids=list(BROKEN))
def test_a_malformed_document_is_refused_naming_what_is_wrong(case: str) -> None:
    patch, message = BROKEN[case]
    doc = {"title": "t", "method": [{"name": "p", "duration_s": 1,
                                     "faults": [{"kind": "proxy_down", "edges": ["x"]}]}]}
    doc.update(patch)
    with pytest.raises(ExperimentError, match=message.replace("(", r"\(").replace(")", r"\)")):
        Experiment.from_dict(doc)


SAMPLES = {
    "latency": {"edges": ("a",), "latency_ms": 1}, "bandwidth": {"edges": ("a",),
                                                                 "rate_kb_per_s": 1},
    "slow_close": {"edges": ("a",), "delay_ms": 1}, "timeout": {"edges": ("a",)},
    "reset_peer": {"edges": ("a",)}, "slicer": {"edges": ("a",), "average_size_bytes": 2},
    "limit_data": {"edges": ("a",), "limit_bytes": 3}, "proxy_down": {"edges": ("a", "b")},
    "kill": {"service": "s"}, "pause": {"service": "s"}, "restart": {"service": "s"},
    "close_consumer_channel": {"service": "s"}, "block_publishes": {"service": "s"},
}


def test_every_fault_kind_round_trips_through_its_spec() -> None:
    assert set(SAMPLES) == set(FAULTS)
    for kind, fields in SAMPLES.items():
        fault = FAULTS[kind](**fields)
        assert fault_from_spec(json.loads(json.dumps(to_spec(fault)))) == fault
        assert fault.describe()
