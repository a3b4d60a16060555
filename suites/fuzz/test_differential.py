"""Differential testing: every case Schemathesis sends through the gateway is re-sent to the
service's own port and the answers must agree, except for the gateway behaviour listed in
`chaos.fuzz.differential.DOCUMENTED_DIFFERENCES` (the one list; docs/fuzz.md shows it).
The check is `gateway_agrees_with_direct` (chaos/fuzz/hooks_differential.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import allure
import pytest

from chaos.fuzz.campaign import catalog_ids
from chaos.fuzz.differential import DOCUMENTED_DIFFERENCES
from suites.fuzz.identities import Credentials, write_wfc_file
from suites.fuzz.runner import run_schemathesis

pytestmark = [pytest.mark.fuzz, pytest.mark.platform, pytest.mark.slow]

IDENTITY = {"user": "alice", "product": "admin", "order": "alice", "payment": "alice"}
MAX_EXAMPLES = 8


def test_the_differences_are_listed_once_with_a_reason() -> None:
    names = [d.name for d in DOCUMENTED_DIFFERENCES]
    assert len(names) == len(set(names)) and all(d.why for d in DOCUMENTED_DIFFERENCES)
    doc = (Path(__file__).parents[2] / "docs" / "fuzz.md").read_text(encoding="utf-8")
    for name in names:
        assert name in doc, f"docs/fuzz.md does not list the difference {name!r}"


@pytest.mark.parametrize("service", sorted(IDENTITY))
def test_gateway_and_service_answer_alike(steady_platform: Any,
                                          fuzz_identities: dict[str, Credentials],
                                          tmp_path: Path, service: str) -> None:
    service_url = str(steady_platform.service_urls[service]).rstrip("/")
    gateway = str(steady_platform.gateway_url).rstrip("/")
    wfc = write_wfc_file(tmp_path / "auth.wfc.json", fuzz_identities, gateway)
    run = run_schemathesis(
        schema_url=f"{service_url}/openapi.json", base_url=gateway, wfc_file=wfc,
        user=IDENTITY[service], max_examples=MAX_EXAMPLES, work_dir=tmp_path,
        exclude_tags=("internal",) if service == "user" else (),
        hooks="chaos.fuzz.hooks_differential",
        extra_env={"CRASHCART_DIFF_DIRECT_URL": service_url,
                   "CRASHCART_FUZZ_PRODUCT_IDS": catalog_ids(gateway)},
        extra_args=["--phases", "examples,fuzzing"])
    allure.attach(run.output, name="schemathesis output",
                  attachment_type=allure.attachment_type.TEXT)
    assert run.report, run.output
    assert run.exit_code == 0 and not run.failures, run.output
    assert "gateway_agrees_with_direct" in run.report_file("cassette.yaml").read_text(
        encoding="utf-8"), "the differential check did not run"
