"""``slow_close``: data passes untouched; the close is propagated ``delay`` ms late."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import ClassVar

from .base import AttributeToxic, Stub


@dataclass(slots=True)
class SlowCloseToxic(AttributeToxic):
    type_name: ClassVar[str] = "slow_close"
    go_name: ClassVar[str] = "SlowCloseToxic"
    delay: int = 0
    """Milliseconds between the source's EOF and closing the destination."""

    async def pipe(self, stub: Stub) -> None:
        while True:
            item = await stub.head()
            if item is None:
                await asyncio.sleep(self.delay / 1000)
                stub.close()
                return
            stub.forward()
