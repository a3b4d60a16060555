"""The resilient client over real sockets: refused -> 503, silent -> 504, breaker opens."""

from __future__ import annotations

import asyncio
import socket
import time

import pytest
from svckit.breaker import BreakerState
from svckit.http_client import DependencyTimeout, DependencyUnavailable, ServiceClient
from svckit.settings import ServiceSettings


def settings(**overrides: object) -> ServiceSettings:
    values = dict(service_name="order", http_timeout_s=0.3, http_attempts=2,
                  breaker_failure_threshold=4, breaker_reset_timeout_s=30)
    values.update(overrides)
    return ServiceSettings(**values)  # type: ignore[arg-type]


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def silent_server() -> tuple[asyncio.Server, int]:
    """A server that accepts connections and never answers (a hung dependency)."""

    async def hold(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(5)
        writer.close()

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


def test_refused_connection_is_503_then_breaker_opens_and_fails_fast() -> None:
    async def scenario() -> None:
        client = ServiceClient("unit-refused", f"http://127.0.0.1:{closed_port()}", settings())
        try:
            for _ in range(2):  # 2 calls x 2 attempts = threshold 4
                with pytest.raises(DependencyUnavailable):
                    await client.get("/x")
            assert client.breaker.state is BreakerState.OPEN
            started = time.monotonic()
            with pytest.raises(DependencyUnavailable) as info:
                await client.get("/x")
            assert time.monotonic() - started < 0.05
            assert info.value.status == 503 and "circuit open" in info.value.detail
        finally:
            await client.aclose()

    asyncio.run(scenario())


def test_silent_server_is_504_within_the_timeout_budget() -> None:
    async def scenario() -> None:
        server, port = await silent_server()
        client = ServiceClient("unit-silent", f"http://127.0.0.1:{port}", settings())
        try:
            started = time.monotonic()
            with pytest.raises(DependencyTimeout) as info:
                await client.get("/x")
            assert info.value.status == 504
            assert time.monotonic() - started < 2 * 0.3 + 1.0
        finally:
            await client.aclose()
            server.close()

    asyncio.run(scenario())


def test_retries_never_outlast_the_call_budget() -> None:
    """Slow attempts x retries would take 3 x 0.5 s; the budget of 0.6 s cuts it to a 504."""

    async def scenario() -> None:
        server, port = await silent_server()
        client = ServiceClient("unit-budget", f"http://127.0.0.1:{port}",
                               settings(http_timeout_s=0.5, http_attempts=3, http_budget_s=0.6))
        try:
            started = time.monotonic()
            with pytest.raises(DependencyTimeout) as info:
                await client.get("/x")
            assert info.value.status == 504
            assert time.monotonic() - started < 0.6 + 0.3
        finally:
            await client.aclose()
            server.close()

    asyncio.run(scenario())


def test_a_cancelled_half_open_trial_lets_the_next_trial_through() -> None:
    async def scenario() -> None:
        server, port = await silent_server()
        client = ServiceClient("unit-cancel", f"http://127.0.0.1:{port}",
                               settings(breaker_failure_threshold=1, breaker_reset_timeout_s=0.05,
                                        http_attempts=1, http_timeout_s=0.2))
        try:
            with pytest.raises(DependencyTimeout):
                await client.get("/x")
            await asyncio.sleep(0.1)
            assert client.breaker.state is BreakerState.HALF_OPEN
            trial = asyncio.create_task(client.get("/x"))
            await asyncio.sleep(0.05)
            trial.cancel()
            with pytest.raises(asyncio.CancelledError):
                await trial
            with pytest.raises(DependencyTimeout):  # a real trial went out, not "circuit open"
                await client.get("/x")
        finally:
            await client.aclose()
            server.close()

    asyncio.run(scenario())
