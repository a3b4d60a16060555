"""``latency``: delay every chunk by ``latency`` ms ± ``jitter`` ms, without throttling.

Each chunk is released at its arrival time plus the delay, so chunks queued behind a
sleeping one are not delayed twice (throughput is unchanged). The chunk's timestamp
moves forward by the sleep, so a second latency toxic adds its delay on top.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import ClassVar

from .base import AttributeToxic, Stub


@dataclass(slots=True)
class LatencyToxic(AttributeToxic):
    type_name: ClassVar[str] = "latency"
    go_name: ClassVar[str] = "LatencyToxic"
    latency: int = 0
    """Delay in milliseconds."""
    jitter: int = 0
    """Uniform integer offset in [-jitter, jitter-1] milliseconds, drawn per chunk."""

    async def pipe(self, stub: Stub) -> None:
        loop = asyncio.get_running_loop()
        while True:
            chunk = await stub.head()
            if chunk is None:
                stub.forward()
                continue
            delay_ms = self.latency
            if self.jitter > 0:
                delay_ms += stub.rng.randrange(-self.jitter, self.jitter)
            wait = chunk.stamp + delay_ms / 1000 - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
                chunk.stamp += wait
            stub.forward()
