"""Every status an order takes is recorded in `order_transitions` by a database trigger, so
"terminal states never change" can be checked from the order database alone, whoever wrote.
"""
from __future__ import annotations

from typing import Any

import allure
import httpx
import pytest

from suites.helpers import factories
from suites.helpers.platform_db import rows, value

pytestmark = [pytest.mark.platform, allure.feature("Order transitions")]


def _transitions(running_platform: Any, order_id: int) -> list[tuple[str | None, str]]:
    found = rows(running_platform.topology, "order",
                 "SELECT from_status, to_status FROM order_transitions WHERE order_id = $1"
                 " ORDER BY id", order_id)
    return [(r["from_status"], r["to_status"]) for r in found]


def test_the_saga_s_transitions_are_recorded(api: httpx.Client, running_platform: Any,
                                              buyer: factories.Account, new_product: Any) -> None:
    pid = new_product(stock=3)["id"]
    placed = factories.place_order(api, buyer, [{"product_id": pid, "quantity": 1}])
    order = factories.wait_for_order(api, buyer, placed.json()["id"])
    assert order["status"] == "PAID"
    assert _transitions(running_platform, order["id"]) == [(None, "PENDING"), ("PENDING", "PAID")]


def test_a_direct_sql_write_is_recorded_too(running_platform: Any) -> None:
    topology = running_platform.topology
    order_id = value(topology, "order",
                     "INSERT INTO orders (user_id, total, currency, idempotency_key,"
                     " request_hash, status) VALUES (0, 0, 'EUR', gen_random_uuid()::text, '',"
                     " 'REJECTED') RETURNING id")
    rows(topology, "order", "UPDATE orders SET total = 1 WHERE id = $1", order_id)
    assert _transitions(running_platform, order_id) == [(None, "REJECTED")], (
        "an update that keeps the status must not be recorded as a transition")
