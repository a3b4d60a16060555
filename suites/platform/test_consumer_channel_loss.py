"""A consumer whose channel the broker closes is seen by readiness (`checks.consumers` down,
503) while the connection stays up, and re-opens its channel by itself.

The broker closes product-service's consuming channels (PRECONDITION_FAILED, via
`rabbitmqctl eval`, the harness's broker fault); while the test also withholds the `read`
permission on `product.saga`, every re-open is refused, so "not ready" lasts until the
permission is back and then recovers without a restart.
"""
from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from typing import Any

import allure
import httpx
import pytest

from chaos.faults.rabbit import close_consumer_channels, rabbitmqctl
from suites.helpers import factories
from suites.helpers.waiting import poll_until

pytestmark = [pytest.mark.platform, allure.feature("Consumer channel loss")]

CONNECTION = "crashcart-product"


def _ready(running_platform: Any) -> tuple[int, dict[str, Any]]:
    answer = httpx.get(f"{running_platform.service_urls['product']}/health/ready", timeout=5)
    return answer.status_code, answer.json()


@contextlib.contextmanager
def queue_read_refused(running_platform: Any) -> Iterator[None]:
    """Refuse `read` on product.saga to the platform's broker user; always restored."""
    rabbit = running_platform.topology.rabbitmq
    listed = json.loads(rabbitmqctl("list_permissions", "-p", rabbit.vhost, "--formatter",
                                    "json", "-q"))
    (mine,) = [p for p in listed if p["user"] == rabbit.user]
    rabbitmqctl("set_permissions", "-p", rabbit.vhost, rabbit.user, mine["configure"],
                mine["write"], r"^(?!product\.saga$).*")
    try:
        yield
    finally:
        rabbitmqctl("set_permissions", "-p", rabbit.vhost, rabbit.user, mine["configure"],
                    mine["write"], mine["read"])


def test_a_closed_consumer_channel_is_reported_and_reopened(
        api: httpx.Client, running_platform: Any, buyer: factories.Account,
        new_product: Any) -> None:
    vhost = running_platform.topology.rabbitmq.vhost
    assert _ready(running_platform)[0] == 200
    with queue_read_refused(running_platform):
        assert close_consumer_channels(vhost, CONNECTION) >= 1
        status, body = poll_until(lambda: _ready(running_platform), lambda r: r[0] == 503,
                                  timeout=10)
        assert status == 503 and body["status"] == "not_ready", body
        assert body["checks"] == {"database": "up", "broker": "up", "consumers": "down"}, body

    # The permission is back: the consumer re-opens its channel by itself (no restart).
    status, body = poll_until(lambda: _ready(running_platform), lambda r: r[0] == 200,
                              timeout=15)
    assert status == 200 and body["checks"]["consumers"] == "up", body
    pid = new_product(stock=2)["id"]
    placed = factories.place_order(api, buyer, [{"product_id": pid, "quantity": 1}])
    assert factories.wait_for_order(api, buyer, placed.json()["id"], timeout=20)["status"] == "PAID"
