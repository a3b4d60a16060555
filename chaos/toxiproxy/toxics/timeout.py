"""``timeout``: drop all data; close after ``timeout`` ms without incoming data.

The timer restarts after every dropped chunk (continuous traffic keeps the
connection open, as in Go). ``timeout = 0`` drops silently forever. Removing the
toxic closes the connection, because bytes were lost.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from .base import AttributeToxic, Stub


@dataclass(slots=True)
class TimeoutToxic(AttributeToxic):
    type_name: ClassVar[str] = "timeout"
    go_name: ClassVar[str] = "TimeoutToxic"
    timeout: int = 0
    """Milliseconds of silence before closing; 0 = never close."""

    async def pipe(self, stub: Stub) -> None:
        while True:
            if self.timeout > 0:
                if not await stub.input.wait_for(self.timeout / 1000):
                    stub.close()
                    return
            else:
                await stub.input.wait()
            while stub.input.items:
                if stub.drop() is None:
                    stub.close()
                    return

    def cleanup(self, stub: Stub) -> None:
        stub.close()
