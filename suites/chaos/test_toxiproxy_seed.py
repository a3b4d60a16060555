"""The embedded Toxiproxy's per-connection decisions follow the experiment's seed.

A ``limit_data`` toxic of 1 byte at toxicity 0.5 either cuts a connection after its first
byte or lets it through, decided per connection by the server's RNG. After the harness's
reseed (``chaos.experiments.toxiproxy_seed.reseed``, what every experiment does first) the
same sequence of connections meets the same decisions, whatever traffic came before; a
different seed gives different ones. A server without the extension (a real Toxiproxy
answers 404 there) is recorded as not reproducible.
"""

from __future__ import annotations

import socket
import socketserver
from collections.abc import Iterator

import httpx
import pytest

from chaos.experiments.toxiproxy_seed import reseed
from chaos.toxiproxy.runner import start_in_thread
from suites.chaos.standins import serving, standin

PAYLOAD = b"hello"
CONNECTIONS = 16


class _Echo(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        while data := self.request.recv(4096):
            self.request.sendall(data)


@pytest.fixture
def echo_port() -> Iterator[int]:
    with serving(socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Echo)) as port:
        yield port


@pytest.fixture
def edge(echo_port: int) -> Iterator[tuple[str, int]]:
    """An embedded server started with its own seed, one proxy to the echo server with a
    coin-flip toxic on it; yields (admin URL, proxy port)."""
    with start_in_thread(port=0, seed=424242) as server:
        made = httpx.post(f"{server.url}/proxies", json={
            "name": "edge", "listen": "127.0.0.1:0", "upstream": f"127.0.0.1:{echo_port}"})
        assert made.status_code == 201, made.text
        port = int(made.json()["listen"].rsplit(":", 1)[1])
        toxic = httpx.post(f"{server.url}/proxies/edge/toxics", json={
            "name": "coin", "type": "limit_data", "stream": "upstream", "toxicity": 0.5,
            "attributes": {"bytes": 1}})
        assert toxic.status_code == 200, toxic.text
        yield server.url, port


def _cut(port: int) -> bool:
    """One connection: True when the toxic cut it (the echo came back short)."""
    with socket.create_connection(("127.0.0.1", port), timeout=5.0) as conn:
        conn.sendall(PAYLOAD)
        got = b""
        while len(got) < len(PAYLOAD):
            chunk = conn.recv(64)
            if not chunk:
                break
            got += chunk
    return got != PAYLOAD


def _decisions(url: str, port: int, seed: int) -> list[bool]:
    record = reseed(url, seed)
    assert record == {"server": "embedded", "seed": seed, "per_connection_reproducible": True}
    return [_cut(port) for _ in range(CONNECTIONS)]


def test_same_seed_same_decisions_other_seed_different(edge: tuple[str, int]) -> None:
    url, port = edge
    first = _decisions(url, port, 7)
    assert any(first) and not all(first), f"a 0.5 coin over {CONNECTIONS} connections: {first}"
    for _ in range(5):                    # unrelated traffic in between changes nothing
        _cut(port)
    assert _decisions(url, port, 7) == first
    other = _decisions(url, port, 8)
    assert other != first
    assert httpx.get(f"{url}/crashcart/seed").json() == {"seed": 8}


def test_a_bad_reseed_body_is_refused(edge: tuple[str, int]) -> None:
    url, _ = edge
    answer = httpx.post(f"{url}/crashcart/seed", json={"seed": "seven"})
    assert answer.status_code == 400
    assert "seed" in answer.json()["error"]


def test_a_server_without_the_extension_is_journalled_as_not_reproducible() -> None:
    # What a real Toxiproxy answers on a path it does not know: 404.
    with standin({}) as port:
        record = reseed(f"http://127.0.0.1:{port}", 7)
    assert record["server"] == "real Toxiproxy"
    assert record["per_connection_reproducible"] is False
    assert "404" in record["note"]
