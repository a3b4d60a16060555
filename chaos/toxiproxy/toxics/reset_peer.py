"""``reset_peer``: on the first chunk (or EOF), wait ``timeout`` ms, then reset the connection.

The RST itself comes from SO_LINGER 0, which the link sets on both sockets at
connection start when this toxic is active on it (see link.py for the toxicity
decision, a documented deviation from Go).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import ClassVar

from .base import AttributeToxic, Stub


@dataclass(slots=True)
class ResetPeerToxic(AttributeToxic):
    type_name: ClassVar[str] = "reset_peer"
    go_name: ClassVar[str] = "ResetToxic"
    timeout: int = 0
    """Milliseconds between the first chunk and the reset."""

    async def pipe(self, stub: Stub) -> None:
        await stub.head()
        stub.drop()
        await asyncio.sleep(self.timeout / 1000)
        stub.close()
