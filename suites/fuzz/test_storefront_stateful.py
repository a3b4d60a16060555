"""Stateful checkout across the services: Schemathesis walks register → log in → order →
read → payments (links across the documents, suites/fuzz/storefront.py) through the gateway,
once as alice with bob as her peer and once as the admin (WFC identities, tokens fetched at
run time), so `object_level_authorization` replays each of alice's reads — orders and
payments — as bob. Which links were followed is read back from the run's own exchanges.
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

#: Stateful examples per identity: alice walks the checkout with bob as her peer (object-level
#: authorization); the admin walks it too (catalog writes included) on a smaller budget, so
#: both fit the default tier's fuzzing time (docs/fuzz.md).
MAX_EXAMPLES = {"alice": 80, "admin": 40}
#: Stateful examples of the register -> log in run (two operations only).
REGISTER_LOGIN_EXAMPLES = 30


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
    #: email -> password of each account the run registered (201), in the run's own requests.
    registered: dict[str, str] = field(default_factory=dict)
    #: (email, status) of each later login with exactly those credentials: a generated email
    #: and password are random, so only the register -> log in link makes a login name them.
    logins_after_register: list[tuple[str, str]] = field(default_factory=list)

    @property
    def cross_service_steps(self) -> list[str]:
        steps = [f"register {e} -> log in ({status})" for e, status in self.logins_after_register]
        steps += [f"order {o} -> its payments" for o in self.orders_placed
                  if o in self.payments_read_for]
        steps += [f"order {o} -> product {p}" for o, products in self.orders_placed.items()
                  for p in products & self.products_read]
        return steps


def _json_body(message: dict[str, Any]) -> Any:
    try:
        return json.loads((message.get("body") or {}).get("string", ""))
    except ValueError:
        return None


def read_walk(cassette: Path) -> Walk:
    document = yaml.safe_load(cassette.read_text(encoding="utf-8"))
    walk = Walk()
    for exchange in document.get("http_interactions", []):
        request, response = exchange["request"], exchange.get("response") or {}
        status = str((response.get("status") or {}).get("code"))
        url = urlsplit(request["uri"])
        body = _json_body(request) if request["method"] == "POST" else None
        credentials = ((body.get("email"), body.get("password"))
                       if isinstance(body, dict) else (None, None))
        if url.path == "/api/v1/users" and status == "201" and isinstance(credentials[0], str):
            walk.registered[credentials[0]] = str(credentials[1])
        elif (url.path == "/api/v1/users/login" and credentials[0] in walk.registered
              and walk.registered[credentials[0]] == credentials[1]):
            walk.logins_after_register.append((str(credentials[0]), status))
        elif request["method"] == "POST" and url.path == "/api/v1/orders" and status == "202":
            order = json.loads(response["body"]["string"])
            walk.orders_placed[int(order["id"])] = {int(i["product_id"]) for i in order["items"]}
        elif request["method"] == "GET" and url.path == "/api/v1/payments":
            walk.payments_read_for |= {int(v) for v in parse_qs(url.query).get("order_id", [])
                                       if v.isdigit()}
        elif (request["method"] == "GET" and url.path.startswith("/api/v1/products/")
              and url.path.rsplit("/", 1)[-1].isdigit() and walk.orders_placed):
            walk.products_read.add(int(url.path.rsplit("/", 1)[-1]))
    return walk


@pytest.mark.parametrize("user", sorted(MAX_EXAMPLES))
def test_the_checkout_walks_across_services_statefully(
        steady_platform: Any, fuzz_identities: dict[str, Credentials], tmp_path: Path,
        user: str) -> None:
    gateway = str(steady_platform.gateway_url).rstrip("/")
    document = write_storefront_document(steady_platform.service_urls, tmp_path / "storefront.json")
    wfc = write_wfc_file(tmp_path / "auth.wfc.json", fuzz_identities, gateway)
    run = run_schemathesis(
        schema_url=str(document), base_url=gateway, wfc_file=wfc, user=user,
        max_examples=MAX_EXAMPLES[user], work_dir=tmp_path, hooks="chaos.fuzz.hooks_catalog",
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


def test_a_login_follows_a_registration_with_its_credentials(
        steady_platform: Any, fuzz_identities: dict[str, Credentials], tmp_path: Path) -> None:
    """The register -> log in link on its own: a stateful run of just those two operations.

    In the whole storefront walk, register is one operation of many and its link one rule of
    many, so a run of 80 examples followed it in most runs but not all (1 of 2 default runs on
    2026-12-02 registered one account and never logged in with it): the walk's platform state
    (ids) differs between runs, so its fixed seed does not fix the path. Here every step is a
    register or a login, so the link is exercised in every run."""
    gateway = str(steady_platform.gateway_url).rstrip("/")
    document = write_storefront_document(steady_platform.service_urls, tmp_path / "storefront.json")
    wfc = write_wfc_file(tmp_path / "auth.wfc.json", fuzz_identities, gateway)
    run = run_schemathesis(
        schema_url=str(document), base_url=gateway, wfc_file=wfc, user="alice",
        max_examples=REGISTER_LOGIN_EXAMPLES, work_dir=tmp_path,
        include_operation_ids=("registerUser", "login"), extra_args=["--phases", "stateful"],
        config_file=Path(__file__).with_name("schemathesis-storefront.toml"))
    allure.attach(run.output, name="schemathesis output",
                  attachment_type=allure.attachment_type.TEXT)
    assert run.exit_code == 0 and not run.failures, run.output
    assert run.phase_status("stateful") == "success", run.output
    walk = read_walk(run.report_file("cassette.yaml"))
    assert walk.registered, f"the stateful phase registered no account: {run.output}"
    # some login named exactly the credentials just registered (random values: only the link
    # makes a login name them), and they worked
    assert walk.logins_after_register, f"the register -> log in link was not followed: {walk}"
    assert "200" in {status for _, status in walk.logins_after_register}, walk
