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
        async def hold(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await asyncio.sleep(5)
            writer.close()

        server = await asyncio.start_server(hold, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
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
