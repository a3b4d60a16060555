"""Fixtures of the Toxiproxy conformance suite.

The server under test is a real Toxiproxy when `TOXIPROXY_URL` is set (it must run on this
host: proxies listen on 127.0.0.1 and reach upstreams on 127.0.0.1), otherwise the embedded
server started once per session as a subprocess (closest to a deployment). Every test leaves
the server empty (all proxies deleted), so tests are independent and order-free.
"""
from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from suites.toxiproxy import admin
from suites.toxiproxy.upstreams import Proxied, Upstream, echo

if TYPE_CHECKING:
    from chaos.toxiproxy.runner import RunningServer

REAL_SERVER_URL = os.environ.get("TOXIPROXY_URL", "").rstrip("/")
EMBEDDED_ONLY_REASON = (
    "needs the embedded server: it starts its own server instances (a real -seed, startup "
    "flags), checks validation that upstream lacks (it panics instead) or a deliberate "
    "deviation (docs/toxiproxy.md), so it cannot run against the server at TOXIPROXY_URL"
)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "toxiproxy: Toxiproxy conformance suite (admin API + data path)"
    )
    config.addinivalue_line(
        "markers",
        "embedded_only: needs our embedded Toxiproxy (seeded RNG, extra validation); "
        "skipped only when TOXIPROXY_URL points at a real Toxiproxy",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if not item.path.is_relative_to(here):
            continue
        item.add_marker(pytest.mark.toxiproxy)
        if REAL_SERVER_URL and item.get_closest_marker("embedded_only"):
            item.add_marker(pytest.mark.skip(reason=EMBEDDED_ONLY_REASON))


@pytest.fixture(scope="session")
def toxiproxy_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Base URL of the admin API under test."""
    if REAL_SERVER_URL:
        yield REAL_SERVER_URL
        return
    from chaos.toxiproxy.runner import start_subprocess

    log_path = tmp_path_factory.mktemp("toxiproxy") / "server.log"
    with start_subprocess(host="127.0.0.1", port=0, log_path=log_path) as server:
        yield server.url.rstrip("/")


@pytest.fixture(scope="session")
def api(toxiproxy_url: str) -> Iterator[httpx.Client]:
    """Admin API client (a fixed, non-browser User-Agent so the 403 guard never fires)."""
    with httpx.Client(base_url=toxiproxy_url, timeout=10.0,
                      headers={"User-Agent": "crashcart-conformance/1"}) as client:
        yield client


@pytest.fixture(autouse=True)
def _empty_server_after_test(api: httpx.Client) -> Iterator[None]:
    """Delete every proxy after each test; fails if the API stopped answering."""
    yield
    admin.delete_all_proxies(api)


@pytest.fixture
def echo_upstream() -> Iterator[Upstream]:
    upstream = Upstream(echo)
    yield upstream
    upstream.close()


@pytest.fixture
def echo_proxy(api: httpx.Client, echo_upstream: Upstream) -> Proxied:
    """An enabled proxy on 127.0.0.1:<random> in front of an echo server."""
    proxy = admin.create_proxy(api, echo_upstream.address, name=admin.unique_name("echo"))
    return Proxied(proxy["name"], admin.port_of(proxy["listen"]), echo_upstream)


@pytest.fixture
def upstream_factory() -> Iterator[Callable[[Any], Upstream]]:
    """Start upstreams with any behaviour; all are closed after the test."""
    started: list[Upstream] = []

    def start(behaviour: Any) -> Upstream:
        upstream = Upstream(behaviour)
        started.append(upstream)
        return upstream

    yield start
    for upstream in started:
        upstream.close()


@pytest.fixture
def embedded_server(tmp_path: Any) -> Iterator[Callable[..., RunningServer]]:
    """Start extra embedded servers (e.g. with a seed); each is stopped after the test."""
    from chaos.toxiproxy.runner import start_subprocess

    servers: list[RunningServer] = []

    def start(*, seed: int | None = None, config: str | None = None,
              extra_args: list[str] | None = None) -> RunningServer:
        log_path = tmp_path / f"server-{len(servers)}.log"
        server = start_subprocess(host="127.0.0.1", port=0, seed=seed, config=config,
                                  log_path=log_path, extra_args=extra_args)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()
