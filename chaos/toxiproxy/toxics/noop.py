"""``noop``: passes data untouched (a public type, and the model of an inactive toxic)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from .base import AttributeToxic, Stub, pass_through


@dataclass(slots=True)
class NoopToxic(AttributeToxic):
    type_name: ClassVar[str] = "noop"
    go_name: ClassVar[str] = "NoopToxic"

    async def pipe(self, stub: Stub) -> None:
        await pass_through(stub)
