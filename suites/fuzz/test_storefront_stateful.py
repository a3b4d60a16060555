"""Stateful checkout across the services: Schemathesis walks register → log in → order →
read → payments (links across the documents, suites/fuzz/storefront.py) through the gateway,
authenticated as alice with bob as her peer (WFC identities, tokens fetched at run time), so
`object_level_authorization` replays each of alice's reads — orders and payments — as bob.
Order lines are mapped onto the real catalog (hooks_catalog) so orders do get created.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import allure
import httpx
import pytest
import yaml

from suites.fuzz.identities import Credentials, write_wfc_file
from suites.fuzz.runner import run_schemathesis
from suites.fuzz.storefront import write_storefront_document

pytestmark = [pytest.mark.fuzz, pytest.mark.platform, pytest.mark.slow]

MAX_EXAMPLES = 80


def catalog_ids(gateway_url: str) -> str:
    items = httpx.get(f"{gateway_url}/api/v1/products", params={"limit": 20},
                      timeout=10.0).raise_for_status().json()["items"]
    return ",".join(str(p["id"]) for p in items if p["stock"] > 100)


@dataclass(slots=True)
class Walk:
    """What the stateful phase did across services, read back from the VCR cassette."""

    orders_placed: dict[int, set[int]] = field(default_factory=dict)  # order id -> product ids
    payments_read_for: set[int] = field(default_factory=set)
    products_read: set[int] = field(default_factory=set)

    @property
    def cross_service_steps(self) -> list[str]:
        steps = [f"order {o} -> its payments" for o in self.orders_placed
                 if o in self.payments_read_for]
        steps += [f"order {o} -> product {p}" for o, products in self.orders_placed.items()
                  for p in products & self.products_read]
        return steps


def read_walk(cassette: Path) -> Walk:
    document = yaml.safe_load(cassette.read_text(encoding="utf-8"))
    walk = Walk()
    for exchange in document.get("http_interactions", []):
        request, response = exchange["request"], exchange.get("response") or {}
        status = str((response.get("status") or {}).get("code"))
        url = urlsplit(request["uri"])
        if request["method"] == "POST" and url.path == "/api/v1/orders" and status == "202":
            order = json.loads(response["body"]["string"])
            walk.orders_placed[int(order["id"])] = {int(i["product_id"]) for i in order["items"]}
        elif request["method"] == "GET" and url.path == "/api/v1/payments":
            walk.payments_read_for |= {int(v) for v in parse_qs(url.query).get("order_id", [])
                                       if v.isdigit()}
        elif (request["method"] == "GET" and url.path.startswith("/api/v1/products/")
              and url.path.rsplit("/", 1)[-1].isdigit() and walk.orders_placed):
            walk.products_read.add(int(url.path.rsplit("/", 1)[-1]))
    return walk


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
        extra_args=["--phases", "stateful"],
        config_file=Path(__file__).with_name("schemathesis-storefront.toml"))
    allure.attach(run.output, name="schemathesis output",
                  attachment_type=allure.attachment_type.TEXT)
    assert run.report, run.output
    assert run.exit_code == 0 and not run.failures, run.output
    assert run.phase_status("stateful") == "success", run.output
    found = re.search(r"API Links:\s+(\d+) covered / (\d+) selected", run.output)
    assert found and int(found.group(1)) > 0, run.output
    walk = read_walk(run.report_file("cassette.yaml"))
    assert walk.orders_placed, "the stateful phase placed no order"
    assert walk.cross_service_steps, f"no link across services was followed: {walk}"
    allure.attach("\n".join(walk.cross_service_steps), name="cross-service steps",
                  attachment_type=allure.attachment_type.TEXT)
