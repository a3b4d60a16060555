"""Fault units on the running platform: each applies and undoes idempotently (twice in a
row is the same as once), a TTL is enforced while the controller lives, ``crashcart heal``
removes whatever a dead run left, and no client address is shared between contexts.

Observed from outside: the Toxiproxy admin API over plain HTTP, sockets on proxy ports,
process states, and the broker's own channel list (rabbitmqctl).
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from typing import Any

import allure
import httpx
import psutil
import pytest

from chaos.faults import (
    BlockPublishes,
    CloseConsumerChannel,
    FaultContext,
    FaultSession,
    KillService,
    Ledger,
    PauseService,
    ProxyDown,
    RestartService,
    connect,
    fault_from_spec,
    to_spec,
)
from chaos.faults.broker import CONNECTION_NAME
from chaos.faults.rabbit import consumer_channels
from chaos.topology import REPO_ROOT

pytestmark = [pytest.mark.platform, allure.feature("Chaos fault units")]

TOXICS: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "latency": ({"latency_ms": 120, "jitter_ms": 10}, {"latency": 120, "jitter": 10}),
    "bandwidth": ({"rate_kb_per_s": 50}, {"rate": 50}),
    "slow_close": ({"delay_ms": 200}, {"delay": 200}),
    "timeout": ({"timeout_ms": 5000}, {"timeout": 5000}),
    "reset_peer": ({"timeout_ms": 300}, {"timeout": 300}),
    "slicer": ({"average_size_bytes": 64, "size_variation_bytes": 8, "delay_us": 50},
               {"average_size": 64, "size_variation": 8, "delay": 50}),
    "limit_data": ({"limit_bytes": 100_000}, {"bytes": 100_000}),
}


def _proxies(ctx: FaultContext) -> dict[str, Any]:
    return dict(httpx.get(f"{ctx.toxiproxy_url}/proxies", timeout=5).json())


def _state(ctx: FaultContext, name: str) -> str:
    record = ctx.backend.state.load().component(name)  # type: ignore[union-attr]
    try:
        return str(psutil.Process(record.pid).status())
    except psutil.Error:
        return "gone"


def _settles(condition: Any, timeout_s: float = 3.0) -> bool:
    """Signals are delivered asynchronously: give the process state a moment to follow."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


@pytest.mark.parametrize("kind", list(TOXICS), ids=list(TOXICS))
def test_a_toxic_on_a_group_of_edges_applies_and_undoes_idempotently(
        kind: str, chaos_context: FaultContext) -> None:
    fields, attributes = TOXICS[kind]
    fault = fault_from_spec({"kind": kind, "edges": ["*_to_db"], "stream": "both",
                             "toxicity": 0.5, **fields})
    assert fault_from_spec(to_spec(fault)) == fault
    db_edges = [n for n in chaos_context.topology.proxy_names if n.endswith("_to_db")]
    fault.apply(chaos_context)
    fault.apply(chaos_context)
    proxies = _proxies(chaos_context)
    for name in db_edges:
        toxics = proxies[name]["toxics"]
        assert sorted(t["stream"] for t in toxics) == ["downstream", "upstream"], toxics
        for item in toxics:
            assert item["type"] == kind and item["toxicity"] == 0.5
            assert {k: item["attributes"][k] for k in attributes} == attributes
    untouched = [n for n in proxies if n not in db_edges]
    assert all(not proxies[n]["toxics"] for n in untouched)
    fault.undo(chaos_context)
    fault.undo(chaos_context)
    assert not any(p["toxics"] for p in _proxies(chaos_context).values())


def test_proxy_down_refuses_connections_until_undone(chaos_context: FaultContext) -> None:
    fault = ProxyDown(edges=("gateway_to_product",))
    port = chaos_context.topology.edge("gateway", "product").proxy_port
    fault.apply(chaos_context)
    fault.apply(chaos_context)
    assert _proxies(chaos_context)["gateway_to_product"]["enabled"] is False
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    fault.undo(chaos_context)
    fault.undo(chaos_context)
    socket.create_connection(("127.0.0.1", port), timeout=2).close()


@pytest.mark.slow
def test_process_faults_pause_kill_and_restart_through_the_backend(
        chaos_context: FaultContext) -> None:
    with allure.step("pause: the process is stopped; undo resumes it"):
        PauseService(service="user").apply(chaos_context)
        assert _settles(lambda: _state(chaos_context, "user") == psutil.STATUS_STOPPED)
        PauseService(service="user").undo(chaos_context)
        PauseService(service="user").undo(chaos_context)
        assert _settles(lambda: _state(chaos_context, "user") != psutil.STATUS_STOPPED)
    with allure.step("kill: the process is gone; undo starts it again, ready"):
        before = chaos_context.backend.state.load().component("user").pid  # type: ignore[union-attr]
        KillService(service="user").apply(chaos_context)
        assert not psutil.pid_exists(before) or psutil.Process(before).status() == "zombie"
        KillService(service="user").undo(chaos_context)
        KillService(service="user").undo(chaos_context)
        url = chaos_context.topology.service_urls["user"]
        assert httpx.get(f"{url}/health/ready", timeout=5).status_code == 200
    with allure.step("restart: a new process, ready"):
        before = chaos_context.backend.state.load().component("user").pid  # type: ignore[union-attr]
        RestartService(service="user").apply(chaos_context)
        after = chaos_context.backend.state.load().component("user").pid  # type: ignore[union-attr]
        assert after != before
        assert httpx.get(f"{url}/health/ready", timeout=5).status_code == 200


@pytest.mark.slow
def test_the_broker_closes_a_consumer_channel_and_the_service_opens_a_new_one(
        chaos_context: FaultContext) -> None:
    name = CONNECTION_NAME.format(service="payment")
    vhost = chaos_context.vhost
    before = set(consumer_channels(vhost, name))
    assert before, "payment-service consumes nothing"
    CloseConsumerChannel(service="payment").apply(chaos_context)
    deadline = time.monotonic() + 20.0
    now = set(consumer_channels(vhost, name))
    while (now & before or not now) and time.monotonic() < deadline:
        time.sleep(0.5)
        now = set(consumer_channels(vhost, name))
    assert now and not now & before, f"channels before {before}, now {now}"


def test_block_publishes_holds_the_services_broker_edge_upstream(
        chaos_context: FaultContext) -> None:
    fault = BlockPublishes(service="order")
    fault.apply(chaos_context)
    fault.apply(chaos_context)
    toxics = _proxies(chaos_context)["order_to_broker"]["toxics"]
    assert [(t["type"], t["stream"], t["attributes"]["rate"]) for t in toxics] == \
        [("bandwidth", "upstream", 0)]
    fault.undo(chaos_context)
    fault.undo(chaos_context)
    assert not _proxies(chaos_context)["order_to_broker"]["toxics"]


def test_the_watchdog_enforces_the_ttl_while_the_controller_lives(
        fault_session: FaultSession, chaos_context: FaultContext) -> None:
    record = fault_session.inject(ProxyDown(edges=("order_to_user",)), ttl_s=1.5)
    assert _proxies(chaos_context)["order_to_user"]["enabled"] is False
    deadline = time.monotonic() + 8.0
    while not _proxies(chaos_context)["order_to_user"]["enabled"] \
            and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _proxies(chaos_context)["order_to_user"]["enabled"] is True
    assert fault_session.remove(record) is False, "the watchdog should have healed it"


DEAD_RUN = """
import os, sys
from chaos.faults import FaultContext, FaultSession, Latency, ProxyDown
session = FaultSession(FaultContext.from_environment(sys.argv[1]), watchdog=False)
session.inject(ProxyDown(edges=("payment_to_broker",)), ttl_s=600)
session.inject(Latency(edges=("gateway_to_*",), latency_ms=80), ttl_s=600)
os._exit(0)  # dies without undoing anything, and with no watchdog
"""


def test_crashcart_heal_removes_what_a_dead_run_left(chaos_context: FaultContext) -> None:
    env = {**os.environ, **chaos_context.env}
    subprocess.run([sys.executable, "-c", DEAD_RUN, str(chaos_context.state_dir)], cwd=REPO_ROOT,
                   env=env, check=True, timeout=60)
    assert len(Ledger(chaos_context.state_dir).snapshot()) == 2
    assert _proxies(chaos_context)["payment_to_broker"]["enabled"] is False
    done = subprocess.run([sys.executable, "-m", "chaos.cli", "--state-dir",
                           str(chaos_context.state_dir), "heal"], cwd=REPO_ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    allure.attach(done.stdout + done.stderr, name="crashcart heal",
                  attachment_type=allure.attachment_type.TEXT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "undone: proxy_down on payment_to_broker" in done.stdout
    assert "undone: latency(latency_ms=80, jitter_ms=0) on gateway_to_*" in done.stdout
    assert not Ledger(chaos_context.state_dir).snapshot()
    assert not any(p["toxics"] or not p["enabled"] for p in _proxies(chaos_context).values())


def test_fault_units_keep_their_own_client_whatever_toxiproxy_python_points_at(
        chaos_context: FaultContext) -> None:
    connect("http://127.0.0.1:9")  # toxiproxy-python's class-level address, pointing nowhere
    fault = ProxyDown(edges=("gateway_to_user",))
    fault.apply(chaos_context)
    try:
        assert _proxies(chaos_context)["gateway_to_user"]["enabled"] is False
    finally:
        fault.undo(chaos_context)
    other = FaultContext(topology=chaos_context.topology, toxiproxy_url="http://127.0.0.1:9",
                         state_dir=chaos_context.state_dir)
    assert other.admin is not chaos_context.admin
    assert other.admin.url != chaos_context.admin.url
