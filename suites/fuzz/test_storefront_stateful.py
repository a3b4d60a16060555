"""Stateful checkout across the services: Schemathesis walks register → log in → order →
read → payments (links across the documents, suites/fuzz/storefront.py) through the gateway,
authenticated as alice with bob as her peer (WFC identities, tokens fetched at run time), so
`object_level_authorization` replays each of alice's reads — orders and payments — as bob.
Order lines are mapped onto the real catalog (hooks_catalog) so orders do get created.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import allure
import httpx
import pytest
import yaml

from suites.fuzz.identities import Credentials, write_wfc_file
from suites.fuzz.runner import run_schemathesis
from suites.fuzz.storefront import CROSS_SERVICE_LINKS, write_storefront_document

pytestmark = [pytest.mark.fuzz, pytest.mark.platform, pytest.mark.slow]

MAX_EXAMPLES = 40


def catalog_ids(gateway_url: str) -> str:
    items = httpx.get(f"{gateway_url}/api/v1/products", params={"limit": 20},
                      timeout=10.0).raise_for_status().json()["items"]
    return ",".join(str(p["id"]) for p in items if p["stock"] > 100)


def walked_checkout(cassette: Path) -> tuple[set[int], set[int]]:
    """(ids of orders placed with 202, order ids whose payments were read) from the VCR."""
    document = yaml.safe_load(cassette.read_text(encoding="utf-8"))
    created: set[int] = set()
    payments_read: set[int] = set()
    for exchange in document.get("http_interactions", []):
        request, response = exchange["request"], exchange.get("response") or {}
        status = str((response.get("status") or {}).get("code"))
        url = urlsplit(request["uri"])
        if request["method"] == "POST" and url.path == "/api/v1/orders" and status == "202":
            created.add(int(json.loads(response["body"]["string"])["id"]))
        if request["method"] == "GET" and url.path == "/api/v1/payments":
            for value in parse_qs(url.query).get("order_id", []):
                if value.isdigit():
                    payments_read.add(int(value))
    return created, payments_read


@pytest.mark.parametrize("user", ["alice", pytest.param("admin", marks=pytest.mark.campaign)])
def test_the_checkout_walks_across_services_statefully(
        steady_platform: Any, fuzz_identities: dict[str, Credentials], tmp_path: Path,
        user: str) -> None:
    gateway = str(steady_platform.gateway_url).rstrip("/")
    document = write_storefront_document(steady_platform.service_urls, tmp_path / "storefront.json")
    wfc = write_wfc_file(tmp_path / "auth.wfc.json", fuzz_identities, gateway)
    run = run_schemathesis(
        schema_url=str(document), base_url=gateway, wfc_file=wfc, user=user,
        max_examples=MAX_EXAMPLES, work_dir=tmp_path, hooks="chaos.fuzz.hooks_catalog",
        extra_env={"CRASHCART_FUZZ_PRODUCT_IDS": catalog_ids(gateway)},
        extra_args=["--phases", "examples,stateful"])
    allure.attach(run.output, name="schemathesis output",
                  attachment_type=allure.attachment_type.TEXT)
    assert run.report, run.output
    assert run.exit_code == 0 and not run.failures, run.output
    assert run.phase_status("stateful") == "success", run.output
    declared = sum(len(links) for answers in CROSS_SERVICE_LINKS.values()
                   for links in answers.values())
    found = re.search(r"API Links:\s+(\d+) covered / (\d+) selected", run.output)
    assert found, run.output
    assert int(found.group(1)) >= declared, run.output
    created, payments_read = walked_checkout(run.report_file("cassette.yaml"))
    assert created, "the stateful phase placed no order"
    assert created & payments_read, (
        f"no order's payments were read after it was placed: created {sorted(created)},"
        f" payments read for {sorted(payments_read)}")
