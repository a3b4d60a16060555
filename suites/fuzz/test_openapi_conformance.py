"""Every service serves exactly what its OpenAPI document declares — directly and through
the gateway.

For each target (service x identity, see targets.py) Schemathesis runs all its phases
(examples, coverage, fuzzing, and stateful where the document has links) with *all* checks
against the service's own document: undeclared statuses, content types or headers, bodies
that break the declared schema, 5xx, invalid input accepted, valid input rejected, missing
auth accepted, `Allow` on 405, use after free, resource availability after create, and
object-level authorization (alice's orders replayed as bob). The gateway run uses the same
document with the gateway as base URL, minus operations it does not route (tag `internal`),
and so proves the gateway does not alter the contract.

Why the CLI in a subprocess rather than the pytest plugin: `schemathesis.pytest.from_fixture`
is broken under pytest 9 (AttributeError on `_nodeid`), loading the schema at import time
would need the platform up at collection time, and the CLI reports every failure of a run
(pytest mode only the first per operation). The subprocess is decoupled from this process;
the test asserts on the machine-readable JSON report, and attaches the console output, the
JUnit report and (on failure) the VCR cassette with every exchange to Allure.

A fixed seed (schemathesis.toml) makes the generated requests repeatable for a given
platform state; the platform's data does evolve between runs (users, products, orders).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import allure
import httpx
import pytest

from suites.fuzz.identities import Credentials, write_wfc_file
from suites.fuzz.runner import StRun, run_schemathesis
from suites.fuzz.targets import GATEWAY_HIDDEN_TAGS, TARGETS, FuzzTarget

pytestmark = [pytest.mark.fuzz, pytest.mark.platform, pytest.mark.slow]

HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


def operations(document: dict[str, Any]) -> list[dict[str, Any]]:
    return [op for item in document.get("paths", {}).values()
            for method, op in item.items() if method in HTTP_METHODS]


def attach_run(run: StRun, *, failed: bool) -> None:
    text = allure.attachment_type.TEXT
    allure.attach(" ".join(run.command), name="command", attachment_type=text)
    allure.attach(run.output, name="schemathesis output", attachment_type=text)
    for name, kind in (("junit.xml", allure.attachment_type.XML),
                       ("report.json", allure.attachment_type.JSON)):
        if run.report_file(name).exists():
            allure.attach.file(str(run.report_file(name)), name=name, attachment_type=kind)
    if failed and run.report_file("cassette.yaml").exists():
        allure.attach.file(str(run.report_file("cassette.yaml")), name="cassette.yaml (VCR)",
                           attachment_type=allure.attachment_type.YAML)


@pytest.mark.parametrize("route", ["direct", "gateway"])
@pytest.mark.parametrize("target", TARGETS, ids=lambda t: t.id)
def test_service_serves_its_openapi_document(
    target: FuzzTarget, route: str, steady_platform: Any,
    fuzz_identities: dict[str, Credentials], tmp_path: Path,
) -> None:
    service_url = str(steady_platform.service_urls[target.service]).rstrip("/")
    base_url = service_url if route == "direct" else str(steady_platform.gateway_url).rstrip("/")
    schema_url = f"{service_url}/openapi.json"
    document = httpx.get(schema_url, timeout=10.0).raise_for_status().json()

    selected = [op for op in operations(document)
                if not target.operation_ids or op.get("operationId") in target.operation_ids]
    exclude_tags: list[str] = []
    if route == "gateway":
        tags = {tag for op in selected for tag in op.get("tags", [])}
        exclude_tags = sorted(GATEWAY_HIDDEN_TAGS & tags)
        selected = [op for op in selected if not GATEWAY_HIDDEN_TAGS & set(op.get("tags", []))]
    has_links = any("links" in answer for op in selected
                    for answer in op.get("responses", {}).values())

    # Log in where a client on this route would: user-service's port, or the gateway.
    login_base = (str(steady_platform.service_urls["user"]) if route == "direct" else base_url)
    wfc_file = write_wfc_file(tmp_path / "auth.wfc.json", fuzz_identities, login_base)
    run = run_schemathesis(
        schema_url=schema_url, base_url=base_url, wfc_file=wfc_file, user=target.user,
        max_examples=target.examples_for(route), work_dir=tmp_path,
        include_operation_ids=target.operation_ids, exclude_tags=exclude_tags)
    ok = run.exit_code == 0 and not run.failures
    attach_run(run, failed=not ok)

    assert run.report, f"Schemathesis wrote no report (exit {run.exit_code}):\n{run.output}"
    assert ok, f"{route} {target.id}: the service does not serve its document:\n{run.output}"
    assert run.report.get("complete") is True, run.output
    assert run.tested_operations == len(selected), (
        f"tested {run.tested_operations} of {len(selected)} operations:\n{run.output}")
    assert set(run.warnings) == set(target.expected_warnings), (
        f"warnings {run.warnings}, expected {sorted(target.expected_warnings)}:\n{run.output}")
    if has_links:
        assert run.phase_status("stateful") == "success", (
            f"stateful phase {run.phase_status('stateful')}:\n{run.output}")
