"""Stock is split into available / reserved / sold and every admin change is recorded, so
"stock is conserved" holds per product: sum(stock_adjustments.delta) = stock + reserved + sold.

Read straight from product-service's database; the public product document keeps showing
`stock` = what can still be bought.
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import allure
import httpx
import pytest

from suites.helpers import factories
from suites.helpers.platform_db import rows
from suites.helpers.problems import assert_problem
from suites.helpers.waiting import poll_until

pytestmark = [pytest.mark.platform, allure.feature("Stock ledger")]

LEDGER = """
SELECT p.id, p.stock, p.reserved, p.sold,
       (SELECT coalesce(sum(delta), 0) FROM stock_adjustments a WHERE a.product_id = p.id)
           AS adjusted,
       (SELECT coalesce(sum(i.quantity), 0) FROM reservation_items i JOIN reservations r
           USING (order_id) WHERE i.product_id = p.id AND r.state = 'RESERVED') AS held,
       (SELECT coalesce(sum(i.quantity), 0) FROM reservation_items i JOIN reservations r
           USING (order_id) WHERE i.product_id = p.id AND r.state = 'COMMITTED') AS bought
FROM products p WHERE $1::bigint IS NULL OR p.id = $1 ORDER BY p.id
"""


def _ledger(running_platform: Any, product_id: int | None = None) -> list[dict[str, Any]]:
    return rows(running_platform.topology, "product", LEDGER, product_id)


def _assert_conserved(row: dict[str, Any]) -> None:
    assert row["adjusted"] == row["stock"] + row["reserved"] + row["sold"], row
    assert row["reserved"] == row["held"] and row["sold"] == row["bought"], row
    assert min(row["stock"], row["reserved"], row["sold"]) >= 0, row


def _adjustments(running_platform: Any, product_id: int) -> list[tuple[int, str]]:
    found = rows(running_platform.topology, "product",
                 "SELECT delta, reason FROM stock_adjustments WHERE product_id = $1 ORDER BY id",
                 product_id)
    return [(r["delta"], r["reason"]) for r in found]


def _patch(api: httpx.Client, admin: str, product_id: int, body: dict[str, Any]
           ) -> httpx.Response:
    return api.patch(f"{factories.PRODUCTS}/{product_id}", json=body,
                     headers=factories.bearer(admin))


def test_every_product_including_the_seeded_catalog_is_conserved(running_platform: Any) -> None:
    ledger = _ledger(running_platform)
    assert len(ledger) >= 50, "the seeded catalog is missing"
    for row in ledger:
        _assert_conserved(row)


def test_a_sale_and_a_compensation_move_units_between_the_columns(
        api: httpx.Client, running_platform: Any, buyer: factories.Account,
        new_product: Any) -> None:
    product = new_product(stock=10)
    pid = product["id"]
    assert _adjustments(running_platform, pid) == [(10, "initial")]

    paid = factories.place_order(api, buyer, [{"product_id": pid, "quantity": 3}])
    assert factories.wait_for_order(api, buyer, paid.json()["id"])["status"] == "PAID"
    declined = factories.place_order(api, buyer, [{"product_id": pid, "quantity": 2}],
                                     payment_token="tok_chargeDeclined")
    order = factories.wait_for_order(api, buyer, declined.json()["id"])
    assert order["status"] == "PAYMENT_FAILED"
    assert factories.wait_for_stock(api, pid, 7) == 7

    (row,) = poll_until(lambda: _ledger(running_platform, pid),
                        lambda found: found[0]["reserved"] == 0, timeout=15)
    assert (row["stock"], row["reserved"], row["sold"]) == (7, 0, 3)
    _assert_conserved(row)


def test_admin_changes_are_relative_or_absolute_and_recorded(
        api: httpx.Client, admin: str, running_platform: Any, new_product: Any) -> None:
    pid = new_product(stock=7)["id"]

    added = _patch(api, admin, pid, {"stock_delta": 5})
    assert added.status_code == 200 and added.json()["stock"] == 12

    refused = _patch(api, admin, pid, {"stock_delta": -13})
    assert_problem(refused, 409)
    assert factories.get_product(api, pid)["stock"] == 12

    both = _patch(api, admin, pid, {"stock": 1, "stock_delta": 1})
    assert_problem(both, 422)

    absolute = _patch(api, admin, pid, {"stock": 4})
    assert absolute.status_code == 200 and absolute.json()["stock"] == 4

    assert _adjustments(running_platform, pid) == [(7, "initial"), (5, "admin"), (-8, "admin")]
    (row,) = _ledger(running_platform, pid)
    _assert_conserved(row)


def test_admin_deltas_racing_with_orders_keep_stock_conserved(
        api: httpx.Client, admin: str, running_platform: Any, buyer: factories.Account,
        new_product: Any) -> None:
    pid = new_product(stock=4)["id"]

    def order(_: int) -> int:
        answer = factories.place_order(api, buyer, [{"product_id": pid, "quantity": 1}])
        assert answer.status_code == 202, answer.text
        return int(answer.json()["id"])

    def restock(_: int) -> int:
        return _patch(api, admin, pid, {"stock_delta": 1}).status_code

    with ThreadPoolExecutor(max_workers=6) as pool:
        orders = pool.map(order, range(8))
        patches = pool.map(restock, range(6))
        order_ids, statuses = list(orders), list(patches)
    assert statuses == [200] * 6
    final = [factories.wait_for_order(api, buyer, oid)["status"] for oid in order_ids]
    assert set(final) <= {"PAID", "REJECTED"}

    # Committing a reservation follows the order's PAID (order.paid): wait for it.
    (row,) = poll_until(lambda: _ledger(running_platform, pid),
                        lambda found: found[0]["reserved"] == 0, timeout=15)
    _assert_conserved(row)
    assert row["sold"] == final.count("PAID") and row["reserved"] == 0
    assert row["adjusted"] == 4 + 6
