"""Each invariant fails on a platform that breaks it, and names the breach.

Breaches are planted by direct writes into a scratch copy of the services' databases and
broker (suites/chaos/planted.py: the platform's own migrations on the same PostgreSQL, a
vhost of its own), or by stand-in servers that behave like a broken gateway or service.
The first test shows the same invariants hold on the untouched copy.
"""
from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import allure
import httpx
import pytest

from chaos.experiments.model import Workload
from chaos.experiments.workload import CheckoutWorkload
from chaos.invariants import (
    INVARIANTS,
    AcceptedOrder,
    Bounds,
    FaultWindow,
    ReadinessSampler,
    Scope,
    check,
)
from chaos.invariants.sources import UNROUTABLE_QUEUE
from chaos.topology import Topology
from suites.chaos.planted import PlantedWorld
from suites.chaos.standins import Reply, standin

pytestmark = [allure.feature("Chaos invariants: planted breaches")]

DB_INVARIANTS = ["orders_complete", "terminal_states_final", "payments_match_ledger",
                 "stock_conserved", "outbox_drained", "dead_letters_accounted",
                 "no_unroutable_events", "recovery"]


def _breaches(name: str, ctx: object) -> list[str]:
    verdict = check(name, ctx)  # type: ignore[arg-type]
    allure.attach("\n".join(verdict.breaches) or "(none)", name=f"{name} breaches",
                  attachment_type=allure.attachment_type.TEXT)
    assert not verdict.ok, f"{name} saw no breach"
    return verdict.breaches


def _named(breaches: list[str], *fragments: str) -> None:
    for fragment in fragments:
        assert any(fragment in line for line in breaches), (fragment, breaches)


def test_every_invariant_is_registered_and_the_clean_copy_passes(planted: PlantedWorld) -> None:
    assert set(DB_INVARIANTS) | {"api_fails_well", "readiness_truthful"} == set(INVARIANTS)
    ok = planted.order("PENDING")
    planted.sql("order", "UPDATE orders SET status = 'PAID' WHERE id = $1", ok)
    planted.sql("payment", "INSERT INTO processor_ledger (idempotency_key, order_id, amount,"
                " currency, outcome) VALUES ($1, $2, 10, 'EUR', 'APPROVED')", f"order-{ok}", ok)
    for name in DB_INVARIANTS:
        verdict = check(name, planted.context())
        assert verdict.ok, (name, verdict.breaches)


def test_orders_complete_names_stuck_missing_and_duplicated_orders(planted: PlantedWorld) -> None:
    stuck = planted.order("PENDING", user_id=3)
    key = planted.sql("order", "SELECT idempotency_key FROM orders WHERE id = $1",
                      stuck)[0]["idempotency_key"]
    # A platform that lost its (user, key) uniqueness: the same checkout stored twice.
    planted.sql("order", "ALTER TABLE orders DROP CONSTRAINT orders_user_id_idempotency_key_key")
    twin = planted.sql("order", "INSERT INTO orders (user_id, status, total, idempotency_key,"
                       " request_hash) VALUES (4, 'PAID', 1, 'dup-key', 'h'), (4, 'PAID', 1,"
                       " 'dup-key', 'h') RETURNING id")
    accepted = (AcceptedOrder(stuck, 3, key, time.time()),
                AcceptedOrder(twin[0]["id"], 4, "dup-key", time.time()),
                AcceptedOrder(999_999, 3, "never-stored", time.time()))
    breaches = _breaches("orders_complete", planted.context(scope=Scope(accepted=accepted)))
    _named(breaches, f"order {stuck} still PENDING", "order 999999 (accepted, key never-stored)"
           " is missing", "idempotency key dup-key of user 4 has 2 orders")


def test_orders_complete_names_a_reservation_held_by_a_finished_order(
        planted: PlantedWorld) -> None:
    oid = planted.order("PENDING")
    planted.sql("order", "UPDATE orders SET status = 'PAID' WHERE id = $1", oid)
    product = _product(planted, stock=10)
    planted.sql("product", "INSERT INTO reservations (order_id, state) VALUES ($1, 'RESERVED')",
                oid)
    planted.sql("product", "INSERT INTO reservation_items VALUES ($1, $2, 2)", oid, product)
    breaches = _breaches("orders_complete", planted.context(scope=Scope(order_ids=(oid,))))
    _named(breaches, f"order {oid} is PAID but its reservation is still RESERVED")


def test_terminal_states_final_names_a_reopened_order_and_an_unrecorded_change(
        planted: PlantedWorld) -> None:
    reopened = planted.order("PENDING")
    planted.sql("order", "UPDATE orders SET status = 'PAID' WHERE id = $1", reopened)
    planted.sql("order", "UPDATE orders SET status = 'PENDING' WHERE id = $1", reopened)
    hidden = planted.order("PENDING")
    planted.sql("order", "ALTER TABLE orders DISABLE TRIGGER orders_transitions_on_status")
    try:
        planted.sql("order", "UPDATE orders SET status = 'REJECTED' WHERE id = $1", hidden)
    finally:
        planted.sql("order", "ALTER TABLE orders ENABLE TRIGGER orders_transitions_on_status")
    breaches = _breaches("terminal_states_final", planted.context())
    _named(breaches, f"order {reopened} left terminal state PAID for PENDING",
           f"order {hidden} is REJECTED but its last recorded transition is to PENDING")


def test_payments_match_ledger_names_every_mismatch(planted: PlantedWorld) -> None:
    unpaid, twice, rejected, failed, holding = (planted.order() for _ in range(5))
    for oid, status in ((unpaid, "PAID"), (twice, "PAID"), (rejected, "REJECTED"),
                        (failed, "PAYMENT_FAILED"), (holding, "PAYMENT_FAILED")):
        planted.sql("order", "UPDATE orders SET status = $2 WHERE id = $1", oid, status)
    ledger = "INSERT INTO processor_ledger (idempotency_key, order_id, amount, currency, " \
             "outcome) VALUES ($1, $2, 10, 'EUR', $3)"
    planted.sql("payment", ledger, f"order-{twice}", twice, "APPROVED")
    planted.sql("payment", ledger, f"order-{twice}-retry", twice, "APPROVED")
    planted.sql("payment", ledger, f"order-{rejected}", rejected, "APPROVED")
    planted.sql("payment", ledger, f"order-{failed}", failed, "APPROVED")
    planted.sql("payment", ledger, "order-424242", 424242, "APPROVED")
    product = _product(planted, stock=5)
    planted.sql("product", "INSERT INTO reservations (order_id, state) VALUES ($1, 'COMMITTED')",
                holding)
    planted.sql("product", "INSERT INTO reservation_items VALUES ($1, $2, 1)", holding, product)
    breaches = _breaches("payments_match_ledger", planted.context())
    _named(breaches, f"order {unpaid} is PAID with 0 approved",
           f"order {twice} is PAID with 2 approved",
           f"order {rejected} is REJECTED but the processor has a charge",
           f"order {failed} is PAYMENT_FAILED but charged",
           f"declined order {holding} holds stock (reservation COMMITTED)",
           "processor charged order 424242")


def test_stock_conserved_names_lost_units_and_phantom_counts(planted: PlantedWorld) -> None:
    lost = _product(planted, stock=10)
    planted.sql("product", "UPDATE products SET stock = 7 WHERE id = $1", lost)
    phantom = _product(planted, stock=10)
    planted.sql("product", "UPDATE products SET stock = 8, reserved = 2 WHERE id = $1", phantom)
    sold = _product(planted, stock=10)
    planted.sql("product", "UPDATE products SET stock = 9, sold = 1 WHERE id = $1", sold)
    breaches = _breaches("stock_conserved", planted.context())
    _named(breaches, f"product {lost} (SKU-{lost}): initial+adjustments 10 != available 7",
           "(+3 units unaccounted)",
           f"product {phantom} (SKU-{phantom}): reserved 2 but RESERVED reservations hold 0",
           f"product {sold} (SKU-{sold}): sold 1 but COMMITTED reservations hold 0")


def test_outbox_drained_names_the_database_and_the_stuck_event(planted: PlantedWorld) -> None:
    planted.sql("payment", "INSERT INTO outbox (event_id, event_type, payload) VALUES"
                " (gen_random_uuid(), 'payment.completed', '{}'::jsonb)")
    breaches = _breaches("outbox_drained", planted.context())
    database = planted.topology.service("payment").database
    _named(breaches, f"payment outbox ({database}): 1 events pending, oldest payment.completed")


def test_dead_letters_accounted_shows_the_message_and_the_order_it_left_behind(
        planted: PlantedWorld) -> None:
    stuck = planted.order("PENDING")
    done = planted.order("PENDING")
    planted.sql("order", "UPDATE orders SET status = 'PAYMENT_FAILED' WHERE id = $1", done)
    parked = planted.publish("order.saga.dlq", {"order_id": stuck}, event_type="payment.completed",
                             headers={"x-death-reason": "ValueError('boom')"})
    planted.publish("product.saga.dlq", {"order_id": done}, event_type="order.created")
    orphan = planted.publish("payment.saga.dlq", {"no": "order"}, event_type="inventory.reserved")
    ctx = planted.context()
    verdict = check("dead_letters_accounted", ctx)
    assert len(verdict.details["dead_letters"]) == 3  # every one is shown
    breaches = _breaches("dead_letters_accounted", ctx)
    _named(breaches, f"dead letter left order {stuck} PENDING: order.saga.dlq: payment.completed "
           f"{parked} order {stuck} (ValueError('boom'))", f"not attributable to an order: "
           f"payment.saga.dlq: inventory.reserved {orphan}")
    assert not any(f"order {done} " in line for line in breaches), breaches


def test_dead_letters_from_before_the_run_are_not_the_runs(planted: PlantedWorld) -> None:
    stuck = planted.order("PENDING")
    old = planted.publish("order.saga.dlq", {"order_id": stuck}, event_type="payment.completed")
    ctx = planted.context(baseline={"dead_letters": {"order.saga.dlq": [old]}})
    assert check("dead_letters_accounted", ctx).ok


def test_no_unroutable_events_names_the_event_and_a_missing_queue(planted: PlantedWorld) -> None:
    lost = planted.publish(UNROUTABLE_QUEUE, {"user_id": 1}, event_type="user.registerd")
    _named(_breaches("no_unroutable_events", planted.context()),
           f"unroutable event: user.registerd routing key '{UNROUTABLE_QUEUE}' id {lost}")
    planted.delete_queue(UNROUTABLE_QUEUE)
    _named(_breaches("no_unroutable_events", planted.context()),
           f"queue {UNROUTABLE_QUEUE} does not exist")


def test_api_fails_well_names_a_500_an_undeclared_503_and_a_hang(planted: PlantedWorld) -> None:
    routes = {
        ("POST", "/api/v1/orders"): Reply(500, {"detail": "Traceback ..."}),
        ("GET", "/api/v1/products/1"): Reply(503, {"error": "down"}, content_type="text/html"),
        ("GET", "/api/v1/products/2"): Reply(200, {"id": 2}, delay_s=1.5),
        ("GET", "/api/v1/products/3"): Reply(503, {"title": "ok"}, "application/problem+json"),
    }
    with standin(routes) as port:
        broken = dataclasses.replace(planted.topology, gateway=dataclasses.replace(
            planted.topology.gateway, port=port))
        workload = CheckoutWorkload(broken, Workload(request_timeout_s=5.0), __import__(
            "random").Random(1))
        with httpx.Client(base_url=broken.gateway_url, timeout=5.0) as client:
            workload._send(client, "POST", "/api/v1/orders", json={})
            for product in (1, 2, 3):
                workload._send(client, "GET", f"/api/v1/products/{product}")
    ctx = planted.context(samples=workload.samples, bounds=Bounds(api_budget_s=1.0))
    breaches = _breaches("api_fails_well", ctx)
    _named(breaches, "POST /api/v1/orders at +0.0s: answered 500",
           "GET /api/v1/products/{id}", "503 is not a problem document (text/html)",
           "answered 200 after 1.5s (budget 1s)")
    assert len(breaches) == 3, breaches


@contextmanager
def _readiness_standins(planted: PlantedWorld, service: str,
                        service_routes: dict[tuple[str, str], Reply],
                        gateway_routes: dict[tuple[str, str], Reply]) -> Iterator[Topology]:
    """The planted topology with one service and the gateway served by stand-ins (their
    routes read per request, so a test can change an answer mid-run)."""
    with standin(service_routes) as service_port, standin(gateway_routes) as gateway_port:
        topology = planted.topology
        yield dataclasses.replace(
            topology, gateway=dataclasses.replace(topology.gateway, port=gateway_port),
            services={service: dataclasses.replace(topology.service(service),
                                                   port=service_port)})


def test_readiness_truthful_names_a_service_that_claims_ready_with_its_database_cut(
        planted: PlantedWorld) -> None:
    liar = {("GET", "/health/ready"): Reply(200, {"status": "ready", "checks": {
        "database": "up", "broker": "up"}})}
    gateway = {("GET", "/health"): Reply(200, {"status": "ok", "services": {
        "product": {"status": "ok"}}})}
    with _readiness_standins(planted, "product", liar, gateway) as lying:
        sampler = ReadinessSampler(lying, interval_s=0.1).start()
        cut_at = time.time()
        time.sleep(1.5)
        samples = sampler.stop()
    window = FaultWindow("proxy_down on product_to_db", applied_at=cut_at, removed_at=None,
                         cuts=("product_to_db",))
    ctx = planted.context(readiness=samples, windows=[window],
                          bounds=Bounds(readiness_detect_s=1.0))
    ctx.topology = lying
    _named(_breaches("readiness_truthful", ctx),
           "product /health/ready did not report database down within 1s of cutting "
           "product_to_db", "gateway /health still showed product ok 1s after cutting "
           "product_to_db")


def test_readiness_truthful_names_a_service_that_never_comes_back(planted: PlantedWorld) -> None:
    down = {("GET", "/health/ready"): Reply(503, {"status": "not_ready", "checks": {
        "database": "down", "broker": "up"}})}
    gateway = {("GET", "/health"): Reply(503, {"status": "degraded", "services": {
        "product": {"status": "unavailable"}}})}
    with _readiness_standins(planted, "product", down, gateway) as stuck:
        sampler = ReadinessSampler(stuck, interval_s=0.1).start()
        cut_at = time.time()
        time.sleep(1.2)
        restored_at = time.time()
        time.sleep(1.2)
        samples = sampler.stop()
    window = FaultWindow("proxy_down on product_to_db", applied_at=cut_at,
                         removed_at=restored_at, cuts=("product_to_db",))
    ctx = planted.context(readiness=samples, windows=[window],
                          bounds=Bounds(readiness_detect_s=1.0, readiness_recover_s=1.0))
    ctx.topology = stuck
    breaches = _breaches("readiness_truthful", ctx)
    _named(breaches, "product /health/ready not ready again within 1s of restoring "
           "product_to_db", "gateway /health did not show product ok within 1s")
    assert not any("did not report" in line for line in breaches), breaches


def test_readiness_truthful_waits_for_a_slow_but_healthy_recovery(planted: PlantedWorld) -> None:
    """The regression of ``user_to_broker:down``: the broker reconnect backs off ~2 s after
    the link returns, longer than the rest of the cell; judging then, on no samples, named a
    healthy service "not ready again". The sampler now waits (up to the bound) to see it."""
    service_routes = {("GET", "/health/ready"): Reply(503, {"status": "not_ready", "checks": {
        "database": "up", "broker": "down"}})}
    gateway_routes = {("GET", "/health"): Reply(503, {"status": "degraded", "services": {
        "user": {"status": "unavailable"}}})}

    def come_back() -> None:
        service_routes[("GET", "/health/ready")] = Reply(200, {"status": "ready", "checks": {
            "database": "up", "broker": "up"}})
        gateway_routes[("GET", "/health")] = Reply(200, {"status": "ok", "services": {
            "user": {"status": "ok"}}})

    with _readiness_standins(planted, "user", service_routes, gateway_routes) as slow:
        sampler = ReadinessSampler(slow, interval_s=0.1).start()
        cut_at = time.time()
        time.sleep(0.5)
        restored_at = time.time()
        window = FaultWindow("proxy_down on user_to_broker", applied_at=cut_at,
                             removed_at=restored_at, cuts=("user_to_broker",))
        timer = threading.Timer(1.0, come_back)
        timer.start()
        waited = sampler.await_recovery([window], slow, recover_s=8.0)
        samples = sampler.stop()
        timer.cancel()
    assert 0.9 <= waited < 4.0, waited
    ctx = planted.context(readiness=samples, windows=[window],
                          bounds=Bounds(readiness_detect_s=1.0, readiness_recover_s=8.0))
    ctx.topology = slow
    verdict = check("readiness_truthful", ctx)
    assert verdict.ok, verdict.breaches
    (row,) = verdict.details.values()
    assert 0.9 <= row["service_recovered_after_s"] <= 4.0, row


def test_recovery_names_the_backlog_that_never_drains_and_the_failing_checkout(
        planted: PlantedWorld) -> None:
    planted.sql("order", "INSERT INTO outbox (event_id, event_type, payload) VALUES"
                " (gen_random_uuid(), 'order.created', '{}'::jsonb)")
    ctx = planted.context(checkout_probe=lambda timeout_s: False,
                          faults_cleared_at=time.time())
    breaches = _breaches("recovery", ctx)
    _named(breaches, "no checkout reached PAID within 2s",
           "backlog not drained within 2s: order outbox: 1 pending")
    assert check("recovery", ctx).details["drained_after_s"] is None


def _product(planted: PlantedWorld, *, stock: int) -> int:
    """A product with its 'initial' adjustment, as product-service records it."""
    row = planted.sql("product", "INSERT INTO products (sku, name, price, stock) VALUES"
                      " ('tmp', 'planted', 1, $1) RETURNING id", stock)[0]
    pid = int(row["id"])
    planted.sql("product", "UPDATE products SET sku = $2 WHERE id = $1", pid, f"SKU-{pid}")
    planted.sql("product", "INSERT INTO stock_adjustments (product_id, delta, reason)"
                " VALUES ($1, $2, 'initial')", pid, stock)
    return pid


@pytest.fixture(autouse=True)
def _quiet_httpx() -> None:
    import logging
    logging.getLogger("httpx").setLevel(logging.WARNING)
