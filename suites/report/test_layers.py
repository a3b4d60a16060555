"""The layer registry: selection by profile/--only/--skip, absent layers, and every suite of
the repository belongs to a layer (a new suite that is not registered fails here)."""

from __future__ import annotations

from pathlib import Path

import pytest

from chaos.run import layers
from chaos.run.layers import Layer
from chaos.run.pytest_layer import run_layer
from chaos.topology import REPO_ROOT


def test_profiles_select_in_registry_order() -> None:
    quick = [layer.name for layer in layers.select("quick")]
    assert quick == ["unit", "contracts", "platform"]
    default = [layer.name for layer in layers.select("default")]
    assert default[:4] == ["unit", "toxiproxy", "contracts", "platform"]
    assert "report" not in default and "report" in [x.name for x in layers.select("full")]


def test_only_and_skip() -> None:
    assert [x.name for x in layers.select("quick", only=["chaos", "fuzz"])] == ["fuzz", "chaos"]
    assert "platform" not in [x.name for x in layers.select("default", skip=["platform"])]
    with pytest.raises(layers.UnknownLayer, match="unknown layer 'nope'"):
        layers.select("default", only=["nope"])
    with pytest.raises(layers.UnknownLayer, match="unknown profile"):
        layers.select("huge")


def test_a_layer_whose_suite_is_not_written_is_absent(tmp_path: Path) -> None:
    ghost = Layer("ghost", ("suites/not_written_yet",), "a layer to come")
    assert ghost.present_paths() == []
    outcome = run_layer(ghost, results_dir=tmp_path / "results", work_dir=tmp_path,
                        profile="default", seed=1, env={}, on_start=lambda _: None,
                        on_tick=lambda _: None)
    assert outcome.status == "absent" and outcome.ok
    assert not (tmp_path / "results").exists()


def test_every_test_module_belongs_to_a_layer() -> None:
    modules = sorted((REPO_ROOT / "suites").rglob("test_*.py"))
    assert modules
    orphans = [str(path.relative_to(REPO_ROOT)) for path in modules
               if layers.epic_for(path) is None]
    assert orphans == [], f"register these in chaos/run/layers.py: {orphans}"
