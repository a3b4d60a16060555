"""toxicity (spec §8): the probability that a toxic acts, decided once per connection and
toxic. 0 never, 1 always, a fraction for that share of connections; with a seed (our
extension: upstream ignores -seed) the same traffic gets the same decisions.

Probe: `limit_data bytes=0` on the downstream stream closes an affected connection on its
first chunk, while an unaffected one echoes, so each connection is classified in one round trip.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import httpx
import pytest

from suites.toxiproxy import admin, net
from suites.toxiproxy.upstreams import Proxied, Upstream

if TYPE_CHECKING:
    from chaos.toxiproxy.runner import RunningServer


def _affected(port: int) -> bool:
    """True when the connection's toxic acted (closed without echo), False when it echoed."""
    with net.connect(port) as client:
        client.sendall(b"ping")
        try:
            first = client.recv(4)
        except ConnectionResetError:
            return True
    if first == b"":
        return True
    assert b"ping".startswith(first), f"neither echo nor cut: {first!r}"
    return False


def _cut_with(api: httpx.Client, proxy: str, toxicity: float) -> None:
    admin.add_toxic(api, proxy, "limit_data", toxicity=toxicity, attributes={"bytes": 0})


def _pattern(api: httpx.Client, upstream: Upstream, connections: int) -> list[bool]:
    proxy = admin.create_proxy(api, upstream.address, name="seeded")
    _cut_with(api, proxy["name"], 0.5)
    port = admin.port_of(proxy["listen"])
    return [_affected(port) for _ in range(connections)]


@pytest.mark.parametrize(("toxicity", "expected"),
                         [(0, False), (1, True), (1.5, True), (-0.5, False)],
                         ids=["zero-never", "one-always", "above-one-always", "negative-never"])
def test_toxicity_bounds_never_and_always_act(
    api: httpx.Client, echo_proxy: Proxied, toxicity: float, expected: bool
) -> None:
    _cut_with(api, echo_proxy.name, toxicity)
    assert [_affected(echo_proxy.port) for _ in range(10)] == [expected] * 10


def test_fractional_toxicity_affects_that_share_of_connections(
    api: httpx.Client, echo_proxy: Proxied
) -> None:
    """Binomial(40, 0.5): 6..34 affected holds with probability > 0.99999 for a fair coin."""
    _cut_with(api, echo_proxy.name, 0.5)
    affected = sum(_affected(echo_proxy.port) for _ in range(40))
    assert 6 <= affected <= 34, f"{affected}/40 connections affected at toxicity 0.5"


def test_toxicity_is_decided_per_connection_not_per_chunk(
    api: httpx.Client, echo_proxy: Proxied
) -> None:
    """An unaffected connection stays unaffected for all its traffic (sticky decision)."""
    admin.add_toxic(api, echo_proxy.name, "limit_data", toxicity=0.5, attributes={"bytes": 0})
    for _ in range(20):
        with net.connect(echo_proxy.port) as client:
            client.sendall(b"ping")
            try:
                first = net.recv_exactly(client, 4)
            except (AssertionError, ConnectionResetError):  # cut: try another connection
                continue
            assert first == b"ping"
            for index in range(10):
                assert net.round_trip_ms(client, b"again %d" % index) >= 0
            return
    pytest.fail("no unaffected connection in 20 tries at toxicity 0.5")


@pytest.mark.embedded_only
def test_same_seed_and_traffic_give_the_same_decisions(
    embedded_server: Callable[..., RunningServer], echo_upstream: Upstream
) -> None:
    patterns = []
    for _ in range(2):
        server = embedded_server(seed=1234)
        with httpx.Client(base_url=server.url, timeout=10.0) as api:
            patterns.append(_pattern(api, echo_upstream, 24))
    assert patterns[0] == patterns[1]
    assert any(patterns[0]) and not all(patterns[0]), f"toxicity 0.5 looked constant: {patterns[0]}"


@pytest.mark.embedded_only
def test_different_seeds_give_different_decisions(
    embedded_server: Callable[..., RunningServer], echo_upstream: Upstream
) -> None:
    patterns = []
    for seed in (1, 2):
        server = embedded_server(seed=seed)
        with httpx.Client(base_url=server.url, timeout=10.0) as api:
            patterns.append(_pattern(api, echo_upstream, 24))
    assert patterns[0] != patterns[1], "the seed does not influence the decisions"


@pytest.mark.embedded_only
def test_seeded_fraction_affects_that_share_of_connections(
    embedded_server: Callable[..., RunningServer], echo_upstream: Upstream
) -> None:
    """Binomial(40, 0.3): 2..22 affected holds with probability > 0.9999 for any seed."""
    server = embedded_server(seed=99)
    with httpx.Client(base_url=server.url, timeout=10.0) as api:
        proxy = admin.create_proxy(api, echo_upstream.address)
        _cut_with(api, proxy["name"], 0.3)
        affected = sum(_affected(admin.port_of(proxy["listen"])) for _ in range(40))
    assert 2 <= affected <= 22, f"{affected}/40 connections affected at toxicity 0.3"
