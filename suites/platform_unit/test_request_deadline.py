"""The request deadline: past it the client has a 503 at once, whatever the handler does."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from svckit.deadline import RequestDeadlineMiddleware

DEADLINE_S = 0.2


def scope(path: str = "/api/v1/orders") -> dict[str, Any]:
    return {"type": "http", "method": "GET", "path": path, "headers": [], "query_string": b""}


async def receive() -> dict[str, Any]:
    return {"type": "http.request", "body": b"", "more_body": False}


class Client:
    """Records what reaches the client, with when it arrived."""

    def __init__(self) -> None:
        self.sent: list[tuple[float, dict[str, Any]]] = []

    async def __call__(self, message: dict[str, Any]) -> None:
        self.sent.append((time.monotonic(), message))

    @property
    def status(self) -> int:
        return next(m["status"] for _, m in self.sent if m["type"] == "http.response.start")


async def answer(send: Any, status: int = 200) -> None:
    await send({"type": "http.response.start", "status": status, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


def test_a_quick_handler_answers_itself() -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await answer(send, 201)

    client = Client()
    asyncio.run(RequestDeadlineMiddleware(app, DEADLINE_S)(scope(), receive, client))
    assert client.status == 201


def test_a_slow_handler_gets_503_before_its_cleanup_ends() -> None:
    cleaned_up: list[float] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        try:
            await asyncio.sleep(10)
        finally:
            await asyncio.sleep(0.3)  # a slow rollback after the cancellation
            cleaned_up.append(time.monotonic())
        await answer(send)  # pragma: no cover - cancelled before

    async def run() -> tuple[Client, float]:
        client = Client()
        started = time.monotonic()
        await RequestDeadlineMiddleware(app, DEADLINE_S)(scope(), receive, client)
        return client, started

    client, started = asyncio.run(run())
    assert client.status == 503
    first_byte = client.sent[0][0]
    assert first_byte - started < DEADLINE_S + 0.15
    assert cleaned_up and first_byte < cleaned_up[0]
    assert [m["type"] for _, m in client.sent] == ["http.response.start", "http.response.body"]


def test_a_started_response_is_left_to_finish() -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await asyncio.sleep(DEADLINE_S * 2)
        await send({"type": "http.response.body", "body": b"late but whole"})

    client = Client()
    asyncio.run(RequestDeadlineMiddleware(app, DEADLINE_S)(scope(), receive, client))
    assert client.status == 200
    assert client.sent[-1][1]["body"] == b"late but whole"


def test_health_is_exempt() -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await asyncio.sleep(DEADLINE_S * 2)
        await answer(send)

    client = Client()
    asyncio.run(RequestDeadlineMiddleware(app, DEADLINE_S)(scope("/health/ready"), receive,
                                                           client))
    assert client.status == 200


def test_a_cancellation_from_outside_is_passed_on() -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await asyncio.sleep(10)

    async def run() -> None:
        request = asyncio.ensure_future(
            RequestDeadlineMiddleware(app, 5)(scope(), receive, Client()))
        await asyncio.sleep(0.05)
        request.cancel()  # e.g. the server shutting down
        await request

    with pytest.raises(asyncio.CancelledError):
        asyncio.run(run())


def test_an_error_before_the_deadline_is_not_swallowed() -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        raise RuntimeError("handler bug")

    with pytest.raises(RuntimeError, match="handler bug"):
        asyncio.run(RequestDeadlineMiddleware(app, DEADLINE_S)(scope(), receive, Client()))
