"""The journeys' client policy: one Idempotency-Key per checkout reused on every retry, and a
token renewed on 401.

The retry rules are the client's own behaviour, so they are shown against a tiny local HTTP
server that drops the first attempt's connection (a network error as a real client sees it);
the token renewal is shown against the running platform.
"""

from __future__ import annotations

import json
import socketserver
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler

import pytest
from locust.contrib.fasthttp import FastHttpSession
from locust.env import Environment
from locust.event import Events

from chaos.storefront import Calls, OrderLine
from load.data import new_buyer
from load.session import BuyerSession
from suites.fixtures.platform import RunningPlatform

ORDER = {"id": 7, "user_id": 1, "status": "PENDING",
         "items": [{"product_id": 1, "quantity": 1, "unit_price": "9.99"}], "total": "9.99",
         "currency": "EUR", "created_at": "2026-01-01T00:00:00Z",
         "updated_at": "2026-01-01T00:00:00Z",
         "access_token": "renewed", "token_type": "bearer", "expires_in": 900}
"""What the local server answers to any POST (an order and a token in one document)."""


class FlakyOrders(BaseHTTPRequestHandler):
    """POST /api/v1/orders: the answers in ``script`` in turn ("drop" closes the connection)."""

    script: list[object] = []
    keys: list[str] = []

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        type(self).keys.append(self.headers.get("Idempotency-Key", ""))
        answer = type(self).script.pop(0)
        if answer == "drop":
            self.close_connection = True
            self.connection.shutdown(2)
            return
        body = json.dumps(ORDER).encode()
        self.send_response(int(answer))  # type: ignore[call-overload]
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def flaky_server() -> Iterator[str]:
    FlakyOrders.keys = []
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), FlakyOrders)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


_environments: list[Environment] = []


@pytest.fixture(autouse=True)
def _quit_runners() -> Iterator[None]:
    yield
    while _environments:
        runner = _environments.pop().runner
        if runner is not None:
            runner.quit()


def session_for(base_url: str, timeout_s: float = 5.0) -> tuple[BuyerSession, Environment]:
    environment = Environment(events=Events())
    environment.create_local_runner()  # its stats listener records the requests
    _environments.append(environment)
    client = FastHttpSession(base_url, environment.events.request, user=None,
                             network_timeout=timeout_s, connection_timeout=timeout_s)
    session = BuyerSession(client, new_buyer())
    session.token = "token"
    return session, environment


@pytest.mark.parametrize(("script", "attempts", "accepted"), [
    (["drop", "202"], 2, True),
    (["503", "504", "202"], 3, True),
    (["drop", "drop", "drop"], 3, False),
    (["422"], 1, False),
], ids=["network-error-then-accepted", "503-504-then-accepted", "gives-up-after-3",
        "422-not-retried"])
def test_a_checkout_retries_with_the_same_idempotency_key(
        flaky_server: str, script: list[object], attempts: int, accepted: bool) -> None:
    FlakyOrders.script = list(script)
    session, environment = session_for(flaky_server)
    placed = session.place_order([OrderLine(1, 1)], "tok_visa", backoff_s=0.01)
    assert (placed is not None and placed.order.id == ORDER["id"]) is accepted
    assert len(FlakyOrders.keys) == attempts
    assert len(set(FlakyOrders.keys)) == 1 and FlakyOrders.keys[0]
    entry = environment.stats.get("/api/v1/orders", "POST")
    assert entry.num_requests == attempts and entry.num_failures == attempts - accepted


def test_the_next_checkout_gets_a_new_key(flaky_server: str) -> None:
    FlakyOrders.script = ["202", "202"]
    session, _ = session_for(flaky_server)
    for _ in range(2):
        session.place_order([OrderLine(1, 1)], "tok_visa")
    assert len(set(FlakyOrders.keys)) == 2


def test_a_login_answered_503_is_retried(flaky_server: str) -> None:
    FlakyOrders.script = ["503", "drop", "200"]
    session, environment = session_for(flaky_server)
    session.login()
    assert session.token == "renewed" and len(FlakyOrders.keys) == 3
    assert environment.stats.get("/api/v1/users/login", "POST").num_failures == 2


@pytest.mark.platform
def test_an_expired_token_is_renewed_on_401(running_platform: RunningPlatform) -> None:
    session, environment = session_for(running_platform.gateway_url, timeout_s=30.0)
    session.token = None
    assert session.ensure(), errors(environment)
    first = session.token
    session.token = first[:-4] + "AAAA"  # a token the platform refuses (bad signature)
    page = session.get(Calls.list_orders(limit=1))
    assert page is not None and page.items == ()
    assert session.token not in (None, first[:-4] + "AAAA")
    logins = environment.stats.get("/api/v1/users/login", "POST")
    assert logins.num_requests == 2 and environment.stats.total.num_failures == 0, \
        errors(environment)


def errors(environment: Environment) -> str:
    return "; ".join(f"{e.method} {e.name}: {e.error} x{e.occurrences}"
                     for e in environment.stats.errors.values())
