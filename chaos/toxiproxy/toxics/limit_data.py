"""``limit_data``: forward at most ``bytes`` bytes per connection and stream, then close.

The count lives in per-link state, so it survives updates of the toxic.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from .base import AttributeToxic, Stub


class LimitState:
    """Bytes already forwarded on one link."""

    __slots__ = ("sent",)

    def __init__(self) -> None:
        self.sent = 0


@dataclass(slots=True)
class LimitDataToxic(AttributeToxic):
    type_name: ClassVar[str] = "limit_data"
    go_name: ClassVar[str] = "LimitDataToxic"
    bytes: int = 0
    """Bytes to forward before closing."""

    def new_state(self) -> LimitState:
        return LimitState()

    async def pipe(self, stub: Stub) -> None:
        state: LimitState = stub.state
        while True:
            chunk = await stub.head()
            if chunk is None:
                stub.close()
                return
            remaining = max(0, self.bytes - state.sent)
            if remaining >= len(chunk.data):
                state.sent += len(chunk.data)
                stub.forward()
            else:
                if remaining > 0:
                    state.sent += remaining
                    stub.emit_part(remaining)
                stub.drop()
            if self.bytes - state.sent <= 0:
                stub.close()
                return
