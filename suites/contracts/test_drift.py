"""Drift checks: every pact interaction against what its provider declares (served OpenAPI,
contracts/asyncapi.yaml), AsyncAPI against the publishers' code, and the served OpenAPI
documents against their reviewed copies (contracts/openapi/)."""

from __future__ import annotations

import copy
import importlib
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import allure
import httpx
import pytest
from pact import match

from chaos.topology import REPO_ROOT
from contracts.drift import (
    SchemaValidator,
    check_pacts_against_asyncapi,
    check_pacts_against_openapi,
    closed,
    load_asyncapi,
    payload_errors,
    served_openapi,
)
from contracts.openapi_review import compare, review
from contracts.pactkit import PRODUCT, PROVIDERS, STOREFRONT, new_pact
from contracts.providers import ProviderProcess

pytestmark = [allure.epic("contracts"), allure.feature("drift checks")]


@pytest.fixture(scope="module")
def served(contract_providers: dict[str, ProviderProcess]) -> dict[str, dict[str, Any]]:
    return {name: served_openapi(proc.url) for name, proc in contract_providers.items()}


def test_every_http_interaction_is_declared_in_the_served_openapi(
        pacts_folder: Path, served: dict[str, dict[str, Any]]) -> None:
    findings = check_pacts_against_openapi(pacts_folder, served)
    allure.attach("\n".join(f.line() for f in findings), name="drift: pacts vs OpenAPI",
                  attachment_type=allure.attachment_type.TEXT)
    assert len(findings) >= 18, "fewer HTTP interactions than the pairs define"
    failed = [f.line() for f in findings if not f.passed]
    assert not failed, "\n".join(failed)


def test_every_message_interaction_matches_the_asyncapi_document(pacts_folder: Path) -> None:
    findings = check_pacts_against_asyncapi(pacts_folder)
    allure.attach("\n".join(f.line() for f in findings), name="drift: pacts vs AsyncAPI",
                  attachment_type=allure.attachment_type.TEXT)
    assert len(findings) >= 8, "fewer message interactions than the saga has"
    failed = [f.line() for f in findings if not f.passed]
    assert not failed, "\n".join(failed)


# ---- AsyncAPI against the publishers' code --------------------------------------------------
EVENT_NAME = re.compile(r"^[a-z]+\.[a-z_]+$")


def published_event_types() -> set[str]:
    """Event types the platform code can publish: the events modules' constants and every
    literal first argument of ``add_event`` anywhere in the platform."""
    found: set[str] = set()
    for service in ("order", "product", "payment"):
        module = importlib.import_module(f"{service}_service.events")
        found |= {v for k, v in vars(module).items()
                  if k.isupper() and isinstance(v, str) and EVENT_NAME.match(v)}
    for path in (REPO_ROOT / "platform").rglob("*.py"):
        found |= set(re.findall(r"add_event\(\s*\w+,\s*\"([a-z]+\.[a-z_]+)\"", path.read_text()))
    return found


def builder_payloads() -> dict[str, dict[str, Any]]:
    """One payload per event type, from the publishers' real builders."""
    from order_service import events as order
    from payment_service import events as payment
    from product_service import events as product

    created = order.order_created(9001, 7001, [{"product_id": 4201, "quantity": 2,
                                                "unit_price": Decimal("19.99")}],
                                  Decimal("39.98"), "EUR", "tok_visa")
    payloads = {
        order.ORDER_CREATED: created,
        product.INVENTORY_RESERVED: product.inventory_reserved(created),
        product.INVENTORY_REJECTED: product.inventory_rejected(9001, 7001, "short"),
        payment.PAYMENT_COMPLETED: payment.payment_completed(9001, 1, "APPROVED",
                                                             Decimal("39.98"), "EUR"),
    }
    for success in (True, False):
        event_type, payload = order.payment_outcome(9001, 7001, success)
        payloads[event_type] = payload
    payloads[order.ORDER_EXPIRED] = order.order_expired(9001, 7001, Decimal("39.98"), "EUR")
    payloads[product.INVENTORY_EXPIRED] = product.inventory_expired(payloads[order.ORDER_EXPIRED])
    return payloads


def test_asyncapi_declares_exactly_what_the_publishers_publish() -> None:
    document = load_asyncapi()
    channels = {c["address"] for c in document["channels"].values()}
    assert channels == published_event_types()
    strict = closed(document)  # publishers must send every required field, nothing undeclared
    validator = SchemaValidator(strict)
    payloads = builder_payloads()
    assert set(payloads) == channels
    for event_type, payload in payloads.items():
        assert payload_errors(strict, validator, event_type, payload) == [], event_type


def test_asyncapi_catches_a_money_field_sent_as_a_number() -> None:
    """A Pact regex matcher accepts 39.98 for "39.98" (it matches the text of the number);
    the AsyncAPI check is what catches that retyping."""
    document = closed(load_asyncapi())
    payload = dict(builder_payloads()["order.created"], amount=39.98)
    errors = payload_errors(document, SchemaValidator(document), "order.created", payload)
    assert errors and "amount" in errors[0] and "string" in errors[0]


# ---- consumer expectations the provider does not declare -----------------------------------
def test_an_expectation_the_openapi_does_not_declare_fails_the_drift_check(
        tmp_path: Path, served: dict[str, dict[str, Any]]) -> None:
    pact = new_pact(STOREFRONT, PRODUCT)
    (pact.upon_receiving("a read of one product with its discount")
         .given("product {id} exists with price {price} and stock {stock}",
                {"id": 4201, "price": "19.99", "stock": 5})
         .with_request("GET", "/api/v1/products/4201")
         .will_respond_with(200)
         .with_header("Content-Type", "application/json")
         .with_body({"id": match.int(4201), "price": match.str("19.99"),
                     "discount_percent": match.int(10)}))
    (pact.upon_receiving("a read of a product's reviews")
         .with_request("GET", "/api/v1/products/4201/reviews")
         .will_respond_with(200)
         .with_body({"items": match.each_like({"stars": match.int(5)})}))
    with pact.serve() as server, httpx.Client(base_url=str(server.url)) as client:
        assert client.get("/api/v1/products/4201").json()["discount_percent"] == 10
        assert client.get("/api/v1/products/4201/reviews").status_code == 200
    pact.write_file(tmp_path)
    findings = {f.description: f for f in check_pacts_against_openapi(
        tmp_path, {PRODUCT: served[PRODUCT]})}
    discount = findings["a read of one product with its discount"]
    assert not discount.passed and "discount_percent" in discount.line(), discount.line()
    reviews = findings["a read of a product's reviews"]
    assert not reviews.passed and "no such path" in reviews.line(), reviews.line()


# ---- served OpenAPI against the reviewed copies -----------------------------------------------
@pytest.mark.parametrize("provider", PROVIDERS)
def test_the_served_openapi_equals_its_reviewed_copy(provider: str,
                                                     served: dict[str, dict[str, Any]]) -> None:
    changes = review(provider, served[provider])
    assert not changes, (
        f"{provider} serves an OpenAPI document that differs from contracts/openapi/ "
        "(review it, then `crashcart contracts openapi --update`):\n"
        + "\n".join(c.line() for c in changes))


def test_differences_are_classified_breaking_or_not(served: dict[str, dict[str, Any]]) -> None:
    reviewed = served[PRODUCT]
    product = reviewed["components"]["schemas"]["Product"]

    def changed(edit: Any) -> list[str]:
        new = copy.deepcopy(reviewed)
        edit(new)
        return [c.line() for c in compare(reviewed, new)]

    def drop_price(doc: dict[str, Any]) -> None:
        del doc["components"]["schemas"]["Product"]["properties"]["price"]

    def add_field(doc: dict[str, Any]) -> None:
        doc["components"]["schemas"]["Product"]["properties"]["colour"] = {"type": "string"}

    def retype_stock(doc: dict[str, Any]) -> None:
        doc["components"]["schemas"]["Product"]["properties"]["stock"] = {"type": "string"}

    def drop_operation(doc: dict[str, Any]) -> None:
        del doc["paths"]["/api/v1/products/{product_id}"]["get"]

    def reword(doc: dict[str, Any]) -> None:
        doc["info"]["description"] = "reworded"

    assert "price" in product["properties"]
    assert any(line.startswith("BREAKING") and "price: field removed" in line
               for line in changed(drop_price))
    assert all(line.startswith("non-breaking") for line in changed(add_field))
    assert any(line.startswith("BREAKING") and "stock: type" in line
               for line in changed(retype_stock))
    assert any(line.startswith("BREAKING") and "operation removed" in line
               for line in changed(drop_operation))
    assert changed(reword) == ["non-breaking: document: descriptions, titles or other "
                               "documentation changed (first at $.info.description)"]
