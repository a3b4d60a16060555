"""The card processor simulator keeps its own ledger, outside the payment transaction, keyed
by `order-<id>`: a charge followed by a failed commit is retried without a second charge.

The failed commit is planted in payment-service's database: a deferred constraint trigger
that makes the first COMMIT of a payment for one user fail (after the processor charged).
"""
from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import allure
import httpx
import pytest

from suites.helpers import factories
from suites.helpers.metrics import sample
from suites.helpers.platform_db import rows

pytestmark = [pytest.mark.platform, allure.feature("Processor idempotency")]

CHARGES = "crashcart_processor_charges_total"
REPLAYS = "crashcart_processor_replays_total"


def _ledger(running_platform: Any, order_id: int) -> list[dict[str, Any]]:
    return rows(running_platform.topology, "payment",
                "SELECT idempotency_key, outcome, amount, refunded_at FROM processor_ledger"
                " WHERE order_id = $1", order_id)


def _payments(running_platform: Any, order_id: int) -> list[dict[str, Any]]:
    return rows(running_platform.topology, "payment",
                "SELECT status FROM payments WHERE order_id = $1", order_id)


def _counter(running_platform: Any, name: str, **labels: str) -> float:
    return sample(running_platform.service_urls["payment"], name, **labels) or 0.0


@pytest.fixture
def failing_first_commit(running_platform: Any, buyer: factories.Account) -> Iterator[str]:
    """Make the first commit of a payment of `buyer` fail; the trigger is always removed."""
    tag = f"cc_test_fail_{uuid.uuid4().hex[:8]}"
    topology = running_platform.topology
    rows(topology, "payment", f"CREATE SEQUENCE {tag}")
    rows(topology, "payment", f"""
        CREATE FUNCTION {tag}() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF NEW.user_id = {int(buyer.id)} AND nextval('{tag}') = 1 THEN
                RAISE EXCEPTION 'planted commit failure';
            END IF;
            RETURN NULL;
        END $$""")
    rows(topology, "payment", f"""
        CREATE CONSTRAINT TRIGGER {tag} AFTER INSERT ON payments
        DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION {tag}()""")
    try:
        yield tag
    finally:
        rows(topology, "payment", f"DROP TRIGGER IF EXISTS {tag} ON payments")
        rows(topology, "payment", f"DROP FUNCTION IF EXISTS {tag}()")
        rows(topology, "payment", f"DROP SEQUENCE IF EXISTS {tag}")


@pytest.mark.parametrize(("token", "status", "outcome"), [
    ("tok_visa", "PAID", "APPROVED"),
    ("tok_chargeDeclined", "PAYMENT_FAILED", "DECLINED"),
], ids=["approved", "declined"])
def test_each_order_has_one_ledger_row_under_its_key(
        api: httpx.Client, running_platform: Any, buyer: factories.Account,
        new_product: Any, token: str, status: str, outcome: str) -> None:
    pid = new_product(stock=5, price="4.25")["id"]
    placed = factories.place_order(api, buyer, [{"product_id": pid, "quantity": 2}],
                                   payment_token=token)
    order = factories.wait_for_order(api, buyer, placed.json()["id"])
    assert order["status"] == status
    ledger = _ledger(running_platform, order["id"])
    assert [(r["idempotency_key"], r["outcome"], f"{r['amount']:.2f}") for r in ledger] == [
        (f"order-{order['id']}", outcome, "8.50")]
    assert ledger[0]["refunded_at"] is None


def test_a_charge_whose_commit_failed_is_not_charged_again(
        api: httpx.Client, running_platform: Any, buyer: factories.Account,
        new_product: Any, failing_first_commit: str) -> None:
    charges_before = _counter(running_platform, CHARGES, outcome="APPROVED")
    replays_before = _counter(running_platform, REPLAYS)
    pid = new_product(stock=5)["id"]

    placed = factories.place_order(api, buyer, [{"product_id": pid, "quantity": 1}])
    order = factories.wait_for_order(api, buyer, placed.json()["id"])

    failed_once = rows(running_platform.topology, "payment",
                       f"SELECT last_value, is_called FROM {failing_first_commit}")[0]
    assert failed_once["is_called"] and failed_once["last_value"] >= 2, (
        "the planted commit failure never fired: the test proves nothing")
    assert order["status"] == "PAID"
    assert [r["outcome"] for r in _ledger(running_platform, order["id"])] == ["APPROVED"]
    assert [r["status"] for r in _payments(running_platform, order["id"])] == ["APPROVED"]
    assert _counter(running_platform, CHARGES, outcome="APPROVED") - charges_before == 1
    assert _counter(running_platform, REPLAYS) - replays_before >= 1
