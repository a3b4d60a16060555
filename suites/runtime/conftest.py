"""Fixtures of the runtime suite: isolated instances and a gateway-only nginx."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from chaos.backends.local import nginx as nginx_proc
from chaos.backends.local import preflight, procs
from chaos.backends.local.ports import wait_ports_free
from chaos.backends.local.state import StateDir
from chaos.topology import Topology
from suites.runtime.instance import ensure_vhost, isolated_env, topology_for


@pytest.fixture(scope="session")
def runtime_vhost() -> str:
    from suites.runtime.instance import RUNTIME_VHOST

    ensure_vhost()
    return RUNTIME_VHOST


@dataclass(slots=True)
class GatewayOnly:
    """nginx rendered from a topology, with nothing behind its proxy ports."""

    topology: Topology
    url: str
    state: StateDir


def _start_gateway_only(state_dir: Path, offset: int, **overrides: str) -> Iterator[GatewayOnly]:
    env = isolated_env(state_dir, offset, **overrides)
    topology = topology_for(env)
    state = StateDir(state_dir)
    state.prepare()
    binary = preflight.find_nginx()
    conf = nginx_proc.prepare_config(topology, state, binary,
                                     preflight.find_js_module(binary))
    proc = procs.spawn(nginx_proc.nginx_command(binary, state, conf),
                       log_path=state.log_path("gateway"))
    url = topology.gateway_url
    try:
        for _ in range(100):
            try:
                httpx.get(f"{url}/health", timeout=1.0)
                break
            except httpx.HTTPError:
                if proc.poll() is not None:
                    raise RuntimeError(procs.tail(state.log_path("gateway"))) from None
                threading.Event().wait(0.05)
        yield GatewayOnly(topology=topology, url=url, state=state)
    finally:
        procs.stop_group(proc.pid)
        proc.wait(timeout=5)
        wait_ports_free([topology.gateway.port])


@pytest.fixture(scope="module")
def gateway_only(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayOnly]:
    """A gateway with 1 s upstream timeouts and its proxies' ports unserved."""
    yield from _start_gateway_only(tmp_path_factory.mktemp("gateway-only"), 4000,
                                   CRASHCART_GATEWAY_READ_TIMEOUT_S="1",
                                   CRASHCART_GATEWAY_CONNECT_TIMEOUT_S="1")


@pytest.fixture(scope="module")
def rate_limited_gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayOnly]:
    """A gateway allowing 1 request/s with a burst of 2."""
    yield from _start_gateway_only(tmp_path_factory.mktemp("rate-limited"), 4100,
                                   CRASHCART_GATEWAY_RATE_LIMIT_RPS="1",
                                   CRASHCART_GATEWAY_RATE_LIMIT_BURST="2")


@pytest.fixture
def black_hole(gateway_only: GatewayOnly) -> Iterator[int]:
    """Listen on the gateway->product proxy port, accept, and never answer (a hung upstream)."""
    port = gateway_only.topology.edge("gateway", "product").proxy_port
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", port))
    server.listen(64)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept_forever() -> None:
        server.settimeout(0.1)
        while not stop.is_set():
            try:
                conn, _ = server.accept()
                accepted.append(conn)
            except OSError:
                continue

    thread = threading.Thread(target=accept_forever, daemon=True)
    thread.start()
    try:
        yield port
    finally:
        stop.set()
        thread.join(timeout=2)
        for conn in accepted:
            conn.close()
        server.close()
