"""One failure of each report category, each raised by the real code of its kind."""

from __future__ import annotations

import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import allure
import httpx
import pytest

from chaos.backends.local import PreflightError, preflight
from chaos.invariants import check
from chaos.invariants.base import CheckContext, HttpSample
from chaos.invariants.sources import Sources
from chaos.topology import load_topology
from load.gates import Gate, Verdict, evaluate
from load.samples import Sample

pytestmark = allure.epic("planted")


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@allure.feature("preflight")
def test_planted_infrastructure() -> None:
    port = _closed_port()
    topology = load_topology(env={"CRASHCART_POSTGRES_PORT": str(port)})
    problems = preflight.check_dependencies(topology)
    raise PreflightError(problems)


@allure.feature("payment → order")
def test_planted_contract_drift() -> None:
    from pact import Pact, match

    pact = Pact("planted-consumer", "planted-provider").with_specification("V4")
    (pact.upon_receiving("a request for order 1").with_request("GET", "/orders/1")
         .will_respond_with(200).with_body({"id": match.int(1)}))
    with pact.serve() as server:
        httpx.get(f"{server.url}/orders/2", timeout=5)


@allure.feature("order")
def test_planted_saga_invariant() -> None:
    topology = load_topology()
    sample = HttpSample("POST", "/api/v1/orders", 500, 0.2, at=0.0,
                        content_type="application/json")
    verdict = check("api_fails_well", CheckContext(topology, Sources(topology), samples=[sample]))
    assert verdict.ok, f"invariant {verdict.invariant} breached: {'; '.join(verdict.breaches)}"


@allure.feature("gateway")
def test_planted_slo_breach() -> None:
    entry = "POST /api/v1/orders"
    report = evaluate([Gate(entry, "p95_ms", 100)],
                      {entry: Sample(100, 0, {40: 80, 900: 20}, 10.0)})
    assert report.verdict is Verdict.PASSED, report.table()


class _Broken(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        body = b'{"type": "about:blank", "title": "Internal Server Error", "status": 500}'
        self.send_response(500)
        self.send_header("Content-Type", "application/problem+json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@allure.feature("product")
def test_planted_server_error() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Broken)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        answer = httpx.get(f"http://127.0.0.1:{server.server_address[1]}/api/v1/products/1")
    finally:
        server.shutdown()
    assert answer.status_code == 200, answer.text


@allure.feature("user")
def test_planted_timeout() -> None:
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        httpx.get(f"http://127.0.0.1:{silent.getsockname()[1]}/health", timeout=0.3)


@allure.feature("catalog")
def test_planted_pass() -> None:
    assert 1 + 1 == 2


@pytest.mark.parametrize("body", [b"{not json", b"\xff\xfe"])
def test_planted_bytes_cases_stay_distinct(body: bytes) -> None:
    assert body
