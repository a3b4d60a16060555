"""Resilience seen from outside: the outbox keeps orders through a broker outage, and a
dead dependency makes order creation fail fast (503 problem+json) behind an open breaker.

Faults always clean up: `proxy_down` re-enables its proxy, and the stopped service is
restarted in a `finally`, so later tests find the platform whole.
"""
from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import allure
import asyncpg
import httpx
import pytest

from chaos.faults import proxy_down, toxic
from suites.helpers import factories, metrics
from suites.helpers.factories import Account
from suites.helpers.problems import assert_problem
from suites.helpers.waiting import poll_until

pytestmark = [pytest.mark.platform, pytest.mark.slow, allure.feature("Resilience")]

FAST_FAILURE_BOUND_S = 3.0
"""Generous on purpose: the point is 'answers at once' versus 'hangs for the 10 s read timeout'."""
RECOVERY_DEADLINE_S = 60.0
MAX_ATTEMPTS_TO_OPEN = 12


@pytest.fixture
def order_service_url(running_platform: Any) -> str:
    return str(running_platform.service_urls["order"])


@contextmanager
def stopped_service(process_faults: Any, name: str) -> Iterator[None]:
    """Stop a service process for the block; always start it again (and wait until ready)."""
    with allure.step(f"stop {name}-service"):
        process_faults.stop(name)
    try:
        yield
    finally:
        with allure.step(f"start {name}-service again"):
            process_faults.start(name, wait=True)


def test_orders_are_accepted_while_the_broker_is_cut_and_complete_once_it_is_back(
        api: httpx.Client, buyer: Account, new_product: Callable[..., dict[str, Any]],
        mesh: Any, order_service_url: str) -> None:
    product = new_product(stock=10)

    with proxy_down(mesh, "order_to_broker"):
        with allure.step("place three orders while order-service cannot reach the broker"):
            accepted = []
            for _ in range(3):
                answer = factories.place_order(api, buyer, [{"product_id": product["id"],
                                                             "quantity": 1}])
                assert answer.status_code == 202, answer.text
                assert answer.json()["status"] == "PENDING"
                accepted.append(answer.json()["id"])
        with allure.step("they wait in the outbox: still PENDING after a few relay polls"):
            time.sleep(2.5)
            statuses = [factories.get_order(api, buyer, oid)["status"] for oid in accepted]
            assert statuses == ["PENDING"] * 3
            backlog = metrics.sample(order_service_url, "crashcart_outbox_backlog")
            allure.attach(str(backlog), name="order-service outbox backlog during the cut",
                          attachment_type=allure.attachment_type.TEXT)

    with allure.step("the broker is back: every accepted order completes"):
        finals = [factories.wait_for_order(api, buyer, oid, timeout=RECOVERY_DEADLINE_S)
                  for oid in accepted]
        assert [order["status"] for order in finals] == ["PAID"] * 3
        for oid in accepted:
            assert [p["status"] for p in factories.payments_of(api, buyer, oid)] == ["APPROVED"]
        assert factories.wait_for_stock(api, product["id"], 7) == 7


def test_with_user_service_down_orders_fail_fast_and_the_breaker_opens_then_recovers(
        api: httpx.Client, buyer: Account, new_product: Callable[..., dict[str, Any]],
        process_faults: Any, order_service_url: str) -> None:
    product = new_product(stock=10)
    items = [{"product_id": product["id"], "quantity": 1}]
    timings: list[str] = []

    with stopped_service(process_faults, "user"):
        with allure.step("orders fail fast with 503 until the breaker for `user` opens"):
            state = None
            for attempt in range(1, MAX_ATTEMPTS_TO_OPEN + 1):
                started = time.monotonic()
                answer = factories.place_order(api, buyer, items)
                elapsed = time.monotonic() - started
                timings.append(f"attempt {attempt}: {answer.status_code} in {elapsed:.3f}s")
                assert_problem(answer, 503)
                assert elapsed < FAST_FAILURE_BOUND_S, timings
                state = metrics.breaker_state(order_service_url, "user")
                if state == metrics.BREAKER_OPEN:
                    break
            allure.attach("\n".join(timings), name="order attempts while user-service is down",
                          attachment_type=allure.attachment_type.TEXT)
            print("\n".join(timings))
            assert state == metrics.BREAKER_OPEN, f"breaker state {state} after {timings}"

        with allure.step("the gateway's health shows user-service not ready"):
            health = api.get("/health").json()
            assert health["status"] != "ok"
            assert health["services"]["user"]["status"] != "ok", health
            assert health["services"]["product"]["status"] == "ok", health

        with allure.step("with the breaker open the answer is still a fast 503"):
            started = time.monotonic()
            answer = factories.place_order(api, buyer, items)
            elapsed = time.monotonic() - started
            print(f"short-circuited: {answer.status_code} in {elapsed:.3f}s")
            assert_problem(answer, 503)
            assert elapsed < FAST_FAILURE_BOUND_S

    with allure.step("after the restart the order path recovers"):
        answer = poll_until(lambda: factories.place_order(api, buyer, items),
                            lambda a: a.status_code == 202, timeout=RECOVERY_DEADLINE_S,
                            interval=0.5)
        assert answer.status_code == 202, answer.text
        assert factories.wait_for_order(api, buyer, answer.json()["id"])["status"] == "PAID"
        assert metrics.breaker_state(order_service_url, "user") == metrics.BREAKER_CLOSED
    listed = api.get(factories.ORDERS, headers=buyer.auth).json()
    assert listed["total"] == 1, "failed attempts must not leave orders behind"


GATEWAY_READ_TIMEOUT_S = 10.0
"""The gateway gives up on a service after this long; a service must answer before it."""


def test_with_its_database_link_black_holed_order_service_answers_503_before_the_gateway_gives_up(
        gateway_url: str, api: httpx.Client, buyer: Account, mesh: Any) -> None:
    """A hung DB link must not queue requests behind a stuck pool until the gateway times out."""
    def list_orders() -> tuple[httpx.Response, float]:
        with httpx.Client(base_url=gateway_url, timeout=30.0) as client:
            started = time.monotonic()
            answer = client.get(factories.ORDERS, headers=buyer.auth)
            return answer, time.monotonic() - started

    assert api.get(factories.ORDERS, headers=buyer.auth).status_code == 200
    with toxic(mesh, "order_to_db", "timeout", stream="upstream", timeout=0), \
            toxic(mesh, "order_to_db", "timeout", stream="downstream", timeout=0):
        with allure.step("30 concurrent reads while every byte to PostgreSQL is swallowed"):
            with ThreadPoolExecutor(30) as pool:
                answers = list(pool.map(lambda _: list_orders(), range(30)))
        timings = sorted(f"{a.status_code} in {t:.1f}s" for a, t in answers)
        allure.attach("\n".join(timings), name="answers during the black hole",
                      attachment_type=allure.attachment_type.TEXT)
        for answer, elapsed in answers:
            assert_problem(answer, 503)
            assert elapsed < GATEWAY_READ_TIMEOUT_S, timings

    with allure.step("the link is back: reads succeed again"):
        answer = poll_until(lambda: api.get(factories.ORDERS, headers=buyer.auth),
                            lambda a: a.status_code == 200, timeout=15.0, interval=0.5)
        assert answer.status_code == 200, answer.text


def _terminate_backends(running_platform: Any, service: str) -> None:
    """What a PostgreSQL restart does to a service: every one of its connections dropped."""
    topology = running_platform.topology
    pg = topology.postgres

    async def terminate() -> None:
        conn = await asyncpg.connect(pg.url("postgres", host=pg.host, port=pg.port))
        try:
            await conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = $1 AND pid <> pg_backend_pid()",
                topology.service(service).database)
        finally:
            await conn.close()

    asyncio.run(terminate())


def test_when_postgresql_drops_connections_requests_get_503_never_500_and_recover(
        gateway_url: str, api: httpx.Client, buyer: Account, running_platform: Any) -> None:
    statuses: Counter[int] = Counter()
    stop = threading.Event()

    def read_orders() -> None:
        with httpx.Client(base_url=gateway_url, timeout=15.0) as client:
            while not stop.is_set():
                answer = client.get(factories.ORDERS, headers=buyer.auth)
                statuses[answer.status_code] += 1
                if answer.status_code != 200:
                    assert_problem(answer, 503)

    with ThreadPoolExecutor(6) as pool:
        readers = [pool.submit(read_orders) for _ in range(6)]
        try:
            with allure.step("drop order-service's database connections 25 times under load"):
                for _ in range(25):
                    _terminate_backends(running_platform, "order")
                    time.sleep(0.2)
        finally:
            stop.set()
        for reader in readers:
            reader.result()
    allure.attach(str(dict(statuses)), name="status codes while connections were dropped",
                  attachment_type=allure.attachment_type.TEXT)
    assert set(statuses) <= {200, 503}, statuses
    assert statuses[200] > 0, statuses
    assert api.get(factories.ORDERS, headers=buyer.auth).status_code == 200
