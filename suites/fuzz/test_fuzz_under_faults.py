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
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import allure
import httpx
import pytest

from chaos.faults import proxy_down, toxic
from chaos.fuzz.campaign import catalog_ids
from suites.fuzz.identities import Credentials, write_wfc_file
from suites.fuzz.runner import run_schemathesis
from suites.fuzz.steady import wait_for_steady_state
from suites.helpers import factories
from suites.helpers.problems import assert_problem

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
    # One line per cell in the captured output (`-rA` shows it), the campaign's record.
    cases = run.report.get("test_cases", {}).get("generated", 0) if run.report else 0
    print(f"fault-fuzz {fault.id}: {cases} cases in {run.seconds:.1f} s, "
          f"seed {run.report.get('seed') if run.report else '?'}, exit {run.exit_code}")
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


@pytest.mark.parametrize("route", ["direct", "gateway"])
def test_a_request_slowed_past_its_deadline_is_a_503_before_the_gateway_gives_up(
        running_platform: Any, mesh: Any, route: str) -> None:
    """Regression (fault-fuzz campaign, order_to_db latency): with 1.5 s on every database
    round trip, placing an order took more than 10 s, past the gateway's read timeout. The
    service's request deadline (svckit/deadline.py) answers a 503 problem in time instead
    (or, when a pool acquire times out first, the database-unavailable 503: both say
    `Retry-After`); a request within the deadline (the product read) still succeeds."""
    wait_for_steady_state(running_platform)
    gateway = str(running_platform.gateway_url).rstrip("/")
    base = gateway if route == "gateway" else str(
        running_platform.service_urls["order"]).rstrip("/")
    read_timeout_s = float(running_platform.topology.gateway.read_timeout_s)
    with httpx.Client(base_url=gateway, timeout=15.0) as api:
        account = factories.new_account(api)
        product = int(catalog_ids(gateway).split(",")[0])
    with (injected(running_platform.toxiproxy,
                   running_platform.proxy_name("order", "db"), "latency"),
          httpx.Client(base_url=base, timeout=read_timeout_s + 5) as client):
        started = time.monotonic()
        answer = factories.place_order(client, account, [{"product_id": product, "quantity": 1}])
        elapsed = time.monotonic() - started
    assert elapsed < read_timeout_s, (elapsed, answer.status_code, answer.text)
    if answer.status_code != 202:
        assert_problem(answer, 503)
        assert answer.headers["Retry-After"] == "1"
