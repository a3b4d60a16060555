"""Retries of the resilient client back off: each retry waits, and the waits grow.

Why: retries fired back to back turn one failing dependency into a retry storm (every
caller multiplies its load by the attempt count at once). ARCHITECTURE.md promises
"retries with backoff+jitter on GETs"; this checks the spacing a dependency sees, on a real
socket, without reading the client's code.
"""

from __future__ import annotations

import asyncio
import time

import pytest
from svckit.http_client import DependencyUnavailable, ServiceClient
from svckit.settings import ServiceSettings

ATTEMPTS = 6


async def failing_server(arrivals: list[float]) -> tuple[asyncio.Server, int]:
    """Answers every request 503 and records when each arrived."""

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while (line := await reader.readline()) not in (b"\r\n", b""):
            if line.startswith(b"GET "):
                arrivals.append(time.monotonic())
        writer.write(b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n"
                     b"Connection: close\r\n\r\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


def test_retries_wait_between_attempts_and_the_waits_grow() -> None:
    arrivals: list[float] = []

    async def scenario() -> None:
        server, port = await failing_server(arrivals)
        settings = ServiceSettings(service_name="order", http_timeout_s=1.0,  # type: ignore[call-arg]
                                   http_attempts=ATTEMPTS, http_budget_s=10.0,
                                   breaker_failure_threshold=100)
        client = ServiceClient("unit-backoff", f"http://127.0.0.1:{port}", settings)
        try:
            with pytest.raises(DependencyUnavailable):
                await client.get("/x")
        finally:
            await client.aclose()
            server.close()
            await server.wait_closed()

    asyncio.run(scenario())
    assert len(arrivals) == ATTEMPTS, arrivals
    gaps = [later - earlier for earlier, later in zip(arrivals, arrivals[1:], strict=False)]
    # The request/response overhead on a busy machine is tens of milliseconds per attempt;
    # the fifth retry's wait alone is far longer than that when the waits grow.
    print("gaps between attempts (s):", [round(g, 3) for g in gaps])
    assert gaps[-1] >= 0.3, f"the last retry went out without a grown wait: gaps {gaps}"
    assert gaps[-1] > gaps[0] + 0.15, f"the waits do not grow (no backoff): gaps {gaps}"
