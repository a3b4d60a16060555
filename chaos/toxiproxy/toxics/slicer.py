"""``slicer``: cut chunks into pieces of about ``average_size`` bytes, ``delay`` µs apart.

A chunk is halved (midpoint moved by a random offset in [-variation, variation-1])
until every piece is at most ``average_size + size_variation`` bytes. Exactly the
inputs that crash Go's server get 400 here (checked against a real 2.12 build):
``average_size + size_variation < 1`` (nothing is small enough, Go recurses until
its stack overflows; this covers a missing/zero ``average_size`` with no variation)
and ``size_variation > average_size + 1`` (a cut can fall before the chunk's start:
"slice bounds out of range"). Everything else works in Go and here, e.g. a variation
equal to the average or one above it, ``average_size`` 0 with variation 1, and a
negative variation (no randomness, pieces of at most ``average + variation``).
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass
from typing import ClassVar

from .base import AttributeToxic, Stub


@dataclass(slots=True)
class SlicerToxic(AttributeToxic):
    type_name: ClassVar[str] = "slicer"
    go_name: ClassVar[str] = "SlicerToxic"
    int_kind: ClassVar[str] = "int"
    average_size: int = 0
    """Target piece size in bytes."""
    size_variation: int = 0
    """Bytes by which a cut point may move."""
    delay: int = 0
    """Microseconds between pieces."""

    def problem(self) -> str | None:
        if self.average_size + self.size_variation < 1:
            return "slicer average_size + size_variation must be at least 1"
        if self.size_variation > self.average_size + 1:
            return "slicer size_variation must be at most average_size + 1"
        return None

    def piece_sizes(self, length: int, rng: random.Random) -> list[int]:
        """Sizes of the pieces a chunk of ``length`` bytes is cut into, in order."""
        limit = self.average_size + self.size_variation
        sizes: list[int] = []
        pending = [length]
        while pending:
            size = pending.pop()
            if size <= limit:
                sizes.append(size)
                continue
            left = size // 2
            if self.size_variation > 0:
                left += rng.randrange(-self.size_variation, self.size_variation)
            pending.append(size - left)  # processed after the left half
            pending.append(left)
        return [size for size in sizes if size > 0]

    async def pipe(self, stub: Stub) -> None:
        while True:
            chunk = await stub.head()
            if chunk is None:
                stub.forward()
                continue
            sizes = self.piece_sizes(len(chunk.data), stub.rng)
            for index, size in enumerate(sizes):
                stub.emit_part(size)
                if self.delay > 0 and index + 1 < len(sizes):
                    await asyncio.sleep(self.delay / 1_000_000)
