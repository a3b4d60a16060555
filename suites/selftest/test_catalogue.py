"""The self-test's catalogue stays true to the platform it plants defects in.

Why in the default run: the catalogue patches exact snippets of platform/; when someone
changes that code, a defect would silently plant nothing (or a broken file). These checks
are cheap (no platform) and fail with the defect and file named.
"""

from __future__ import annotations

import py_compile
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from chaos.run import layers
from chaos.selftest.catalogue import CATEGORIES, DEFECTS, ISSUE_CATEGORIES, by_id
from chaos.selftest.runner import EXCLUDED_LAYERS, LAYER_PATHS, SELFTEST_LAYERS
from chaos.selftest.workspace import apply_patch, patch_problems
from chaos.topology import REPO_ROOT

PLATFORM = REPO_ROOT / "platform"


def test_the_catalogue_has_at_least_15_defects_covering_the_issue_categories() -> None:
    assert len(DEFECTS) >= 15
    assert len({d.id for d in DEFECTS}) == len(DEFECTS), "defect ids must be unique"
    covered = {d.category for d in DEFECTS}
    assert set(ISSUE_CATEGORIES) <= covered, set(ISSUE_CATEGORIES) - covered
    assert covered <= set(CATEGORIES), covered - set(CATEGORIES)


def test_the_selftest_layers_are_registered_layers_and_none_is_forgotten() -> None:
    for name in (*SELFTEST_LAYERS, *EXCLUDED_LAYERS):
        layers.by_name(name)
    assert set(SELFTEST_LAYERS) | set(EXCLUDED_LAYERS) == set(layers.layer_names())
    for defect in DEFECTS:
        assert set(defect.expected) <= set(SELFTEST_LAYERS), defect.id
    for name, paths in LAYER_PATHS.items():
        layer = layers.by_name(name)
        for path in paths:
            assert (REPO_ROOT / path).is_file(), path
            assert layers.epic_for(path) == layer.name, f"{path} is not in layer {name}"


@pytest.mark.parametrize("defect_id", [d.id for d in DEFECTS])
def test_each_defect_applies_exactly_once_and_leaves_a_valid_file(defect_id: str,
                                                                 tmp_path: Path) -> None:
    defect = by_id(defect_id)
    assert patch_problems(defect, PLATFORM) == []
    copy = tmp_path / "platform"
    for file in {p.file for p in defect.patches}:
        (copy / file).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(PLATFORM / file, copy / file)
    for patch in defect.patches:
        apply_patch(copy, patch)
    for file in {p.file for p in defect.patches}:
        patched = (copy / file).read_text(encoding="utf-8")
        assert patched != (PLATFORM / file).read_text(encoding="utf-8")
        if file.endswith(".py"):
            py_compile.compile(str(copy / file), doraise=True)


def _selftest(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "chaos.cli", "selftest", *args],
                          cwd=REPO_ROOT, capture_output=True, text=True, timeout=120,
                          check=False)


def test_an_unknown_defect_or_layer_is_a_usage_error_naming_the_choices() -> None:
    answer = _selftest("--only", "no-such-defect")
    assert answer.returncode == 2, answer
    assert "unknown defect 'no-such-defect'" in answer.stderr
    assert DEFECTS[0].id in answer.stderr
    answer = _selftest("--layer", "nope", "--list")
    assert answer.returncode == 2, answer
    assert "unknown layer 'nope'" in answer.stderr


def test_list_and_check_need_no_platform() -> None:
    listed = _selftest("--list")
    assert listed.returncode == 0, listed
    assert [line.split()[0] for line in listed.stdout.splitlines()] == [d.id for d in DEFECTS]
    checked = _selftest("--check")
    assert checked.returncode == 0, checked
    assert f"all {len(DEFECTS)} defects apply" in checked.stdout


@pytest.mark.campaign
@pytest.mark.platform
def test_a_planted_defect_is_caught_end_to_end(tmp_path: Path) -> None:
    """The whole path (copy, own instance, layer, verdict) on the cheapest defect."""
    results = tmp_path / "results.json"
    answer = subprocess.run(
        [sys.executable, "-m", "chaos.cli", "selftest", "--only", "breaker-never-opens",
         "--layer", "unit", "--results", str(results)],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=900, check=False)
    assert answer.returncode == 0, answer.stdout + answer.stderr
    import json

    document = json.loads(results.read_text())
    (result,) = document["results"]
    assert result["caught_by"] == "unit"
    assert "test_breaker.py" in result["failing_test"]
