"""A consumer backlog does not starve the HTTP API of database connections: at most
CONSUMER_CONCURRENCY (4) deliveries of a service use its pool (10) at once, whatever the
prefetch (16), and the card processor's round trip holds none.

A trigger planted in payment-service's database makes each payment insert of this test's
buyer take a second inside its transaction; a dozen queued charges would then hold every
pooled connection if deliveries were not bounded. The database itself says how many ran at
once (pg_stat_activity), and the HTTP API keeps answering meanwhile.
"""
from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import allure
import httpx
import pytest

from suites.helpers import factories
from suites.helpers.platform_db import rows, value

pytestmark = [pytest.mark.platform, allure.feature("Consumer concurrency")]

ORDERS = 12
SLOTS = 4
HOLD_S = 1.0


@pytest.fixture
def slow_payment_inserts(running_platform: Any, buyer: factories.Account) -> Iterator[None]:
    tag = f"cc_test_slow_{uuid.uuid4().hex[:8]}"
    topology = running_platform.topology
    rows(topology, "payment", f"""
        CREATE FUNCTION {tag}() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN PERFORM pg_sleep({HOLD_S}); RETURN NEW; END $$""")
    rows(topology, "payment", f"""
        CREATE TRIGGER {tag} BEFORE INSERT ON payments FOR EACH ROW
        WHEN (NEW.user_id = {int(buyer.id)}) EXECUTE FUNCTION {tag}()""")
    try:
        yield
    finally:
        rows(topology, "payment", f"DROP TRIGGER IF EXISTS {tag} ON payments")
        rows(topology, "payment", f"DROP FUNCTION IF EXISTS {tag}()")


def _inserting(running_platform: Any) -> int:
    database = running_platform.topology.service("payment").database
    return int(value(running_platform.topology, "payment",
                     "SELECT count(*) FROM pg_stat_activity WHERE datname = $1"
                     " AND state = 'active' AND query LIKE 'INSERT INTO payments%'", database))


def test_a_backlog_leaves_the_http_api_its_connections(
        api: httpx.Client, running_platform: Any, buyer: factories.Account,
        new_product: Any, slow_payment_inserts: None) -> None:
    pid = new_product(stock=ORDERS)["id"]
    placed = [factories.place_order(api, buyer, [{"product_id": pid, "quantity": 1}])
              for _ in range(ORDERS)]
    assert all(p.status_code == 202 for p in placed)

    concurrent: list[int] = []
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            concurrent.append(_inserting(running_platform))
            time.sleep(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    answers: list[tuple[int, float]] = []
    try:
        deadline = time.monotonic() + ORDERS / SLOTS * HOLD_S
        while time.monotonic() < deadline:
            started = time.monotonic()
            status = api.get(factories.PAYMENTS, headers=buyer.auth).status_code
            answers.append((status, time.monotonic() - started))
    finally:
        stop.set()
        sampler.join(5)
    orders = [factories.wait_for_order(api, buyer, p.json()["id"]) for p in placed]

    assert max(concurrent) >= 2, f"no backlog formed, the test proves nothing: {concurrent}"
    assert max(concurrent) <= SLOTS, (
        f"more deliveries held a connection at once than the bound of {SLOTS}: {concurrent}")
    assert {status for status, _ in answers} == {200}, f"the HTTP API starved: {answers}"
    assert {o["status"] for o in orders} == {"PAID"}
