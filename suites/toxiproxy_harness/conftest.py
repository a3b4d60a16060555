"""Fixtures of the harness suite: one embedded server per module, a toxiproxy-python client
bound to it, and an echo proxy that is deleted after each test."""
from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from toxiproxy import Toxiproxy
from toxiproxy.api import APIConsumer

from chaos.faults import connect
from chaos.toxiproxy.runner import RunningServer, start_in_thread
from suites.toxiproxy import admin
from suites.toxiproxy.upstreams import Proxied, Upstream, echo

SEED = 7
"""The module servers' seed: decisions are replayable within a module."""


@pytest.fixture(scope="module")
def server() -> Iterator[RunningServer]:
    """An embedded server in a thread on a free port, stopped when the module ends."""
    with start_in_thread(host="127.0.0.1", port=0, seed=SEED) as running:
        yield running


@pytest.fixture(scope="module")
def api(server: RunningServer) -> Iterator[httpx.Client]:
    """Plain HTTP view of the module server, independent of toxiproxy-python's global address."""
    with httpx.Client(base_url=server.url, timeout=10.0) as client:
        yield client


@pytest.fixture(autouse=True)
def _restore_client_address() -> Iterator[None]:
    """toxiproxy-python keeps its server address in class attributes; give it back after a test."""
    previous = (APIConsumer.host, APIConsumer.port)
    yield
    APIConsumer.host, APIConsumer.port = previous


@pytest.fixture
def client(server: RunningServer) -> Toxiproxy:
    """A toxiproxy-python client pointed at the module server through ``chaos.faults.connect``."""
    return connect(server.url)


@pytest.fixture
def echo_upstream() -> Iterator[Upstream]:
    upstream = Upstream(echo)
    yield upstream
    upstream.close()


@pytest.fixture
def echo_proxy(api: httpx.Client, echo_upstream: Upstream) -> Iterator[Proxied]:
    """An enabled proxy in front of an echo server; deleted (with its toxics) after the test."""
    proxy = admin.create_proxy(api, echo_upstream.address, name=admin.unique_name("echo"))
    yield Proxied(proxy["name"], admin.port_of(proxy["listen"]), echo_upstream)
    api.delete(f"/proxies/{proxy['name']}")
