"""A delivery whose handler fails is not lost: it goes through the retry queues and is
applied once the cause is gone.

Why: ARCHITECTURE.md promises that consumers ack only after the effect's transaction
commits and that failures go through ``<queue>.retry.N``. A consumer that acks on receipt
looks fine on every happy path (and the order reconciler even hides it for orders); the
difference shows only when the handler fails. Here product-service's database link is cut
while an event arrives, then restored: the event's effect must appear.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import allure
import orjson
import pytest

from chaos.faults import proxy_down
from suites.helpers.platform_db import publish, value
from suites.helpers.waiting import poll_until

pytestmark = [pytest.mark.platform, pytest.mark.slow, allure.feature("Event delivery")]

CUT_S = 3.0
"""Long enough for the first deliveries to fail on the missing database."""
APPLIED_WITHIN_S = 45.0
"""The retry queues' delays (0.5, 1, 2, 4 s ...) and a busy machine, with a wide margin."""


def test_an_event_whose_handler_fails_is_retried_and_applied_after_recovery(
        running_platform: Any, mesh: Any) -> None:
    topology = running_platform.topology
    # order.payment_failed for an order product-service never saw: its effect is a
    # tombstone row in reservations, observable in the product database.
    order_id = 2**41 + uuid.uuid4().int % 2**20
    body = orjson.dumps({"order_id": order_id, "user_id": 1})
    with allure.step("cut product-service's database link and publish the event"):
        with proxy_down(mesh, running_platform.proxy_name("product", "db")):
            publish(topology, "order.payment_failed", body, f"retry-{uuid.uuid4().hex}")
            time.sleep(CUT_S)
    with allure.step("once the database is back, the event's effect appears"):
        state = poll_until(
            lambda: value(topology, "product",
                          "SELECT state FROM reservations WHERE order_id = $1", order_id),
            lambda found: found is not None, timeout=APPLIED_WITHIN_S, interval=0.5)
        assert state == "EXPIRED", (
            f"order.payment_failed for order {order_id} was never applied after the database "
            "came back: the failed delivery was lost instead of retried")
