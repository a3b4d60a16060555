"""What must be shown: verification fails, naming the interaction and the field, when a
provider renames or retypes a field — shown by serving a patched provider (an HTTP wrapper,
``contracts.mutants``; a patched payload builder for events), never by editing a pact file;
and an empty pact folder never passes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import allure
import pytest
from pact import Verifier

from chaos.topology import Topology
from contracts.messages import message_producer
from contracts.pactkit import ORDER, PAYMENT, PRODUCT, USER
from contracts.providers import ProviderProcess, run_provider
from contracts.verify import InteractionResult, verify_provider

pytestmark = [allure.epic("contracts"), allure.feature("verification catches drift")]


def _result(results: list[InteractionResult], description: str) -> InteractionResult:
    found = [r for r in results if r.description == description]
    assert found, f"{description!r} was not verified"
    return found[0]


def test_a_renamed_or_retyped_response_field_fails_naming_interaction_and_field(
        topology: Topology, contract_providers: dict[str, ProviderProcess],
        pacts_folder: Path, contract_log_dir: Path) -> None:
    with run_provider(topology, PRODUCT, deps={"user": contract_providers[USER].url},
                      log_dir=contract_log_dir, instance="_mutant",
                      app="contracts.mutants:product_price_renamed") as patched:
        report = verify_provider(PRODUCT, pacts_folder, url=patched.url,
                                 messages=message_producer(PRODUCT))
    allure.attach("\n".join(report.lines()), name="verification of the patched provider",
                  attachment_type=allure.attachment_type.TEXT)
    assert not report.passed
    pricing = _result(report.interactions, "a product read for pricing")
    assert not pricing.passed
    line = pricing.line()
    assert "a product read for pricing" in line and "missing" in line and "price" in line, line
    retyped = _result(report.interactions, "an admin setting a product's stock")
    assert not retyped.passed
    line = retyped.line()
    assert "an admin setting a product's stock" in line and "$.stock" in line, line
    # What does not involve the renamed field still passes: the failure is precise.
    assert _result(report.interactions, "a read of a product that does not exist").passed


def _retyped_order_id(real: Any) -> Any:
    def order_created(*args: Any, **kwargs: Any) -> dict[str, Any]:
        payload = dict(real(*args, **kwargs))
        payload["order_id"] = str(payload["order_id"])  # 9101 -> "9101"
        return payload
    return order_created


def _renamed_success(real: Any) -> Any:
    def payment_completed(*args: Any, **kwargs: Any) -> dict[str, Any]:
        payload = dict(real(*args, **kwargs))
        payload["approved"] = payload.pop("success")
        return payload
    return payment_completed


@pytest.mark.parametrize(("provider", "module", "builder", "patch", "description", "field"), [
    (ORDER, "order_service.events", "order_created", _retyped_order_id,
     "an order.created event", "$.order_id"),
    (PAYMENT, "payment_service.events", "payment_completed",
     _renamed_success, "a payment.completed event for an approved charge", "success"),
], ids=["order.created order_id retyped", "payment.completed success renamed"])
def test_a_changed_event_payload_fails_naming_interaction_and_field(
        monkeypatch: pytest.MonkeyPatch, contract_providers: dict[str, ProviderProcess],
        pacts_folder: Path, provider: str, module: str, builder: str, patch: Any,
        description: str, field: str) -> None:
    import importlib

    events = importlib.import_module(module)
    monkeypatch.setattr(events, builder, patch(getattr(events, builder)))
    report = verify_provider(provider, pacts_folder, url=contract_providers[provider].url,
                             messages=message_producer(provider))
    allure.attach("\n".join(report.lines()), name=f"verification of patched {provider}",
                  attachment_type=allure.attachment_type.TEXT)
    changed = _result(report.interactions, description)
    assert not changed.passed
    assert field in changed.line(), changed.line()
    assert not report.passed


def test_an_empty_pact_folder_fails(tmp_path: Path,
                                    contract_providers: dict[str, ProviderProcess]) -> None:
    url = contract_providers[USER].url
    # The raw verifier calls an empty folder a success (notes P11) ...
    raw = Verifier(USER, host="127.0.0.1").add_transport(url=url).add_source(str(tmp_path))
    raw.verify()
    assert raw.results["result"] is True and not raw.results["interactionResults"]
    # ... the harness's verification does not.
    report = verify_provider(USER, tmp_path, url=url)
    assert not report.passed
    assert "no interactions to verify" in "\n".join(report.lines())
