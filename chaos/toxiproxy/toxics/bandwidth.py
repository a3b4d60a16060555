"""``bandwidth``: limit a stream to ``rate`` KB/s (KB = 1000 bytes).

Sleep debt is carried over so timer overshoot does not lower the rate. ``rate = 0``
holds every byte until the toxic is removed (then the link flushes them) — the
"connection cut" Testcontainers builds from two such toxics. A negative rate
crashes Go's server; we refuse it with 400.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import ClassVar

from .base import AttributeToxic, Stub

_SLICE_SECONDS = 0.1


@dataclass(slots=True)
class BandwidthToxic(AttributeToxic):
    type_name: ClassVar[str] = "bandwidth"
    go_name: ClassVar[str] = "BandwidthToxic"
    rate: int = 0
    """Kilobytes (1000 bytes) per second."""

    def problem(self) -> str | None:
        return "bandwidth rate must not be negative" if self.rate < 0 else None

    async def pipe(self, stub: Stub) -> None:
        if self.rate <= 0:
            await asyncio.Event().wait()  # stall until interrupted
        loop = asyncio.get_running_loop()
        bytes_per_second = self.rate * 1000
        slice_bytes = max(1, int(bytes_per_second * _SLICE_SECONDS))
        debt = 0.0
        while True:
            chunk = await stub.head()
            if chunk is None:
                stub.forward()
                continue
            size = min(len(chunk.data), slice_bytes)
            wanted = size / bytes_per_second - debt
            started = loop.time()
            if wanted > 0:
                await asyncio.sleep(wanted)
            debt = max(0.0, (loop.time() - started) - wanted) if wanted > 0 else -wanted
            stub.emit_part(size)
