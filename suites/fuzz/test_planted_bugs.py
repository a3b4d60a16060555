"""The default fuzzing tier catches real bugs: each test plants one in a COPY of a service
(suites/fuzz/service_copy.py), runs it on a free port against its own database, fuzzes it
with the suite's own runner and configuration, and requires the run to fail for the
planted reason (and to pass on the unpatched copy would be the suite itself).

- ownership: order-service's `GET /orders/{id}` forgets the owner filter — Schemathesis'
  stateful phase creates an order as alice and its `object_level_authorization` check
  replays the read as bob (ST402);
- server error on odd input: product search fails on non-ASCII text — `not_a_server_error`
  (ST101) on the generated `q`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import allure
import httpx
import pytest

from suites.fuzz.identities import Credentials, write_wfc_file
from suites.fuzz.runner import StRun, run_schemathesis
from suites.fuzz.service_copy import ServiceCopy, copy_platform, patch_source, run_service_copy
from suites.fuzz.steady import wait_for_steady_state

pytestmark = [pytest.mark.fuzz, pytest.mark.platform, pytest.mark.slow]

CATALOG_HOOKS = "chaos.fuzz.hooks_catalog"


def catalog_ids(gateway_url: str) -> str:
    items = httpx.get(f"{gateway_url}/api/v1/products", params={"limit": 20},
                      timeout=10.0).raise_for_status().json()["items"]
    return ",".join(str(p["id"]) for p in items if p["stock"] > 100)


def failure_codes(run: StRun) -> set[str]:
    return {str(f.get("code")) for f in run.report.get("failures", []) if isinstance(f, dict)}


@pytest.fixture
def planted(running_platform: Any, tmp_path: Path) -> Iterator[tuple[Path, Path]]:
    wait_for_steady_state(running_platform)
    root = copy_platform(tmp_path)
    yield root, tmp_path


def _attach(run: StRun) -> None:
    allure.attach(run.output, name="schemathesis output", attachment_type=allure.attachment_type.TEXT)


def _fuzz(copy: ServiceCopy, running_platform: Any, identities: dict[str, Credentials],
          work: Path, operation_ids: tuple[str, ...], max_examples: int) -> StRun:
    login_base = str(running_platform.service_urls["user"])
    wfc = write_wfc_file(work / "auth.wfc.json", identities, login_base)
    (work / "st").mkdir(exist_ok=True)
    run = run_schemathesis(
        schema_url=f"{copy.url}/openapi.json", base_url=copy.url, wfc_file=wfc, user="alice",
        max_examples=max_examples, work_dir=work / "st", include_operation_ids=operation_ids,
        hooks=CATALOG_HOOKS,
        extra_env={"CRASHCART_FUZZ_PRODUCT_IDS": catalog_ids(str(running_platform.gateway_url))})
    _attach(run)
    return run


def test_a_planted_ownership_bug_is_caught(
        running_platform: Any, fuzz_identities: dict[str, Credentials],
        planted: tuple[Path, Path]) -> None:
    root, work = planted
    patch_source(root, "order_service/repository.py",
                 'return await _one_order(pool, "id = $1 AND user_id = $2", order_id, user_id)',
                 'return await _one_order(pool, "id = $1 AND $2::bigint > 0", order_id, user_id)')
    with run_service_copy(running_platform.topology, "order", root, work) as copy:
        run = _fuzz(copy, running_platform, fuzz_identities, work,
                    ("createOrder", "getOrder"), max_examples=15)
    assert run.report, run.output
    assert run.exit_code != 0 and run.failures, f"the planted BOLA was not found:\n{run.output}"
    assert "ST402" in failure_codes(run), f"{run.failures}\n{run.output[-4000:]}"


def test_a_planted_server_error_on_odd_input_is_caught(
        running_platform: Any, fuzz_identities: dict[str, Credentials],
        planted: tuple[Path, Path]) -> None:
    root, work = planted
    patch_source(root, "product_service/api.py",
                 "    rows, total = await repository.list_products(request.app.state.pool, limit,"
                 " offset, q)",
                 "    if q is not None and not q.isascii():\n"
                 "        raise RuntimeError('planted: search breaks on non-ASCII text')\n"
                 "    rows, total = await repository.list_products(request.app.state.pool, limit,"
                 " offset, q)")
    with run_service_copy(running_platform.topology, "product", root, work) as copy:
        assert httpx.get(f"{copy.url}/api/v1/products", params={"q": "socks"},
                         timeout=10.0).status_code == 200
        run = _fuzz(copy, running_platform, fuzz_identities, work, ("listProducts",),
                    max_examples=30)
    assert run.report, run.output
    assert run.exit_code != 0 and run.failures, f"the planted 500 was not found:\n{run.output}"
    assert "ST101" in failure_codes(run), f"{run.failures}\n{run.output[-4000:]}"
