"""Fuzzing under faults: while latency, reset_peer or a proxy down sits on a dependency edge
of a service, every answer the fuzzer gets from it is within its contract or a declared
503/504 problem document — never a 500 (or another 5xx), never slower than the gateway's
upstream read timeout (a hang the gateway would turn into its own 504).

Schemathesis runs against the service's own port with all checks except
`not_a_server_error`, which `declared_unavailability_only` (chaos/fuzz/hooks_faults.py)
replaces, and `--max-response-time` at the gateway's read timeout. The default tier runs one
fault on each kind of HTTP/database edge (user, product, database); the whole matrix (every edge of every
service x latency, reset_peer, down) is the `campaign` marker's.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import allure
import pytest

from chaos.faults import proxy_down, toxic
from chaos.fuzz.campaign import catalog_ids
from suites.fuzz.identities import Credentials, write_wfc_file
from suites.fuzz.runner import run_schemathesis
from suites.fuzz.steady import wait_for_steady_state

pytestmark = [pytest.mark.fuzz, pytest.mark.platform, pytest.mark.slow]

LATENCY_MS = 1500
MAX_EXAMPLES = 8
IDENTITY = {"user": "alice", "product": "admin", "order": "alice", "payment": "alice"}


@dataclass(frozen=True, slots=True)
class EdgeFault:
    service: str
    target: str  # "user", "product", "db" or "broker"
    kind: str  # "latency", "reset_peer" or "down"

    @property
    def id(self) -> str:
        return f"{self.service}_to_{self.target}-{self.kind}"


DEFAULT_TIER = (
    EdgeFault("order", "user", "latency"),
    EdgeFault("order", "product", "down"),
    EdgeFault("product", "db", "reset_peer"),
)
# Faults on user-service's own database also break the fuzzer's logins: left out.
CALLS = {"order": ("user", "product"), "product": ("user",), "payment": ("user",), "user": ()}
FULL_MATRIX = tuple(
    EdgeFault(service, target, kind)
    for service in ("order", "product", "payment", "user")
    for target in (*CALLS[service], "db", "broker")
    if not (service == "user" and target == "db")
    for kind in ("latency", "reset_peer", "down"))


@contextlib.contextmanager
def injected(client: Any, proxy: str, kind: str) -> Iterator[None]:
    if kind == "down":
        with proxy_down(client, proxy):
            yield
    elif kind == "latency":
        with toxic(client, proxy, "latency", latency=LATENCY_MS, jitter=200):
            yield
    else:
        with toxic(client, proxy, "reset_peer", timeout=0):
            yield


def fuzz_under(fault: EdgeFault, platform: Any, identities: dict[str, Credentials],
               work: Path) -> None:
    wait_for_steady_state(platform)
    service_url = str(platform.service_urls[fault.service]).rstrip("/")
    gateway = str(platform.gateway_url).rstrip("/")
    read_timeout_s = float(platform.topology.gateway.read_timeout_s)
    wfc = write_wfc_file(work / "auth.wfc.json", identities,
                         str(platform.service_urls["user"]))
    products = catalog_ids(gateway)
    proxy = platform.proxy_name(fault.service, fault.target)
    with injected(platform.toxiproxy, proxy, fault.kind):
        run = run_schemathesis(
            schema_url=f"{service_url}/openapi.json", base_url=service_url, wfc_file=wfc,
            user=IDENTITY[fault.service], max_examples=MAX_EXAMPLES, work_dir=work,
            hooks="chaos.fuzz.hooks_faults",
            extra_env={"CRASHCART_FUZZ_PRODUCT_IDS": products},
            extra_args=["--phases", "fuzzing", "--exclude-checks", "not_a_server_error",
                        "--max-response-time", str(read_timeout_s)])
    allure.attach(run.output, name=f"schemathesis under {fault.id}",
                  attachment_type=allure.attachment_type.TEXT)
    assert run.report, run.output
    assert run.report.get("complete") is True, run.output
    assert run.exit_code == 0 and not run.failures, f"under {fault.id}:\n{run.output}"
    assert "declared_unavailability_only" in run.report_file("cassette.yaml").read_text(
        encoding="utf-8"), "the fault check did not run"


@pytest.mark.parametrize("fault", DEFAULT_TIER, ids=lambda f: f.id)
def test_every_answer_under_a_fault_is_in_contract_or_a_declared_503_504(
        running_platform: Any, fuzz_identities: dict[str, Credentials], tmp_path: Path,
        fault: EdgeFault, mesh: Any) -> None:
    fuzz_under(fault, running_platform, fuzz_identities, tmp_path)


@pytest.mark.campaign
@pytest.mark.parametrize("fault", FULL_MATRIX, ids=lambda f: f.id)
def test_fault_matrix(running_platform: Any, fuzz_identities: dict[str, Credentials],
                      tmp_path: Path, fault: EdgeFault, mesh: Any) -> None:
    fuzz_under(fault, running_platform, fuzz_identities, tmp_path)
