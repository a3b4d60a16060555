"""The contract between the data path and a toxic, and the per-connection stub toxics drive.

Why this shape: a toxic is configuration plus one ``pipe`` coroutine (as in Go's
``Pipe``). Data waits in the stub's input until the toxic has fully handled it
(``forward``/``drop`` pop it), so cancelling ``pipe`` at any await — which is how a
live update or removal interrupts it — never loses or reorders a byte.
"""

from __future__ import annotations

import asyncio
import dataclasses
import random
from collections import deque
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, runtime_checkable

from ..gojson import Field, Struct

if TYPE_CHECKING:
    from ..link import Link


class Chunk:
    """One read from a socket: bytes plus arrival time (``loop.time()`` seconds)."""

    __slots__ = ("data", "stamp")

    def __init__(self, data: bytes, stamp: float) -> None:
        self.data = data
        self.stamp = stamp


EOF = None
"""End-of-stream marker travelling through channels after the last chunk."""

Item = Chunk | None


class Channel:
    """FIFO between stages whose ``put`` never blocks.

    Why: with non-blocking puts, re-pointing a stage's output is a plain attribute
    assignment, so splicing toxics in and out is atomic under asyncio. Back-pressure
    is applied once per link, at the socket reader (bytes in flight).
    """

    __slots__ = ("items", "_waiter")

    def __init__(self) -> None:
        self.items: deque[Item] = deque()
        self._waiter: asyncio.Future[None] | None = None

    def put(self, item: Item) -> None:
        self.items.append(item)
        self._wake()

    def extend(self, items: deque[Item] | list[Item]) -> None:
        if items:
            self.items.extend(items)
            self._wake()

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def wait(self) -> None:
        """Return once the channel holds at least one item."""
        while not self.items:
            waiter = asyncio.get_running_loop().create_future()
            self._waiter = waiter
            try:
                await waiter
            finally:
                self._waiter = None

    async def wait_for(self, timeout: float) -> bool:
        """Like :meth:`wait` with a timeout in seconds; False when it expired."""
        if self.items:
            return True
        try:
            await asyncio.wait_for(self.wait(), timeout)
        except TimeoutError:
            return False
        return True


class Stub:
    """One toxic on one link (connection + stream): its input, output, RNG and state."""

    __slots__ = ("link", "entry", "input", "output", "rng", "state", "active", "closed", "task")

    def __init__(self, link: Link, entry: Any, rng: random.Random) -> None:
        self.link = link
        self.entry = entry
        self.input = Channel()
        self.output: Channel = link.out
        self.rng = rng
        toxic = entry.toxic
        self.state: Any = toxic.new_state() if isinstance(toxic, Stateful) else None
        self.active = False
        self.closed = False
        self.task: asyncio.Task[None] | None = None

    # -- used by toxics -------------------------------------------------
    async def head(self) -> Item:
        """Wait for and return the oldest pending item without removing it."""
        if not self.input.items:
            await self.input.wait()
        return self.input.items[0]

    def forward(self) -> Item:
        """Pass the oldest pending item on unchanged."""
        item = self.input.items.popleft()
        self.output.put(item)
        return item

    def forward_all(self) -> None:
        """Pass every pending item on (the no-op fast path)."""
        items = self.input.items
        self.output.extend(items)
        items.clear()

    def drop(self) -> Item:
        """Discard the oldest pending item."""
        item = self.input.items.popleft()
        if item is not None:
            self.link.discard(len(item.data))
        return item

    def emit_part(self, size: int, stamp: float | None = None) -> None:
        """Send the first ``size`` bytes of the oldest chunk; the rest stays pending."""
        chunk = self.input.items[0]
        assert chunk is not None
        part = Chunk(chunk.data[:size], chunk.stamp if stamp is None else stamp)
        chunk.data = chunk.data[size:]
        self.output.put(part)
        if not chunk.data:
            self.input.items.popleft()

    def close(self) -> None:
        """End the stream here: downstream stages see EOF, later input is discarded."""
        if not self.closed:
            self.closed = True
            self.output.put(EOF)

    # -- used by the link -------------------------------------------------
    def start(self) -> None:
        self.active = self.rng.random() < self.entry.toxicity
        self.task = asyncio.get_running_loop().create_task(self._run())

    def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            self.task = None

    async def _run(self) -> None:
        if not self.closed:
            if self.active:
                await self.entry.toxic.pipe(self)
            else:
                await pass_through(self)
        while True:  # closed: nothing more may reach the output
            await self.input.wait()
            while self.input.items:
                self.drop()


async def pass_through(stub: Stub) -> None:
    """Behaviour of a toxic that is not active on this link (toxicity roll failed) and of noop."""
    while True:
        await stub.input.wait()
        stub.forward_all()


class Toxic(Protocol):
    """What every toxic type provides. Units are in attribute names' docs (ms unless noted)."""

    type_name: ClassVar[str]

    def attributes(self) -> dict[str, int]: ...

    def update(self, values: dict[str, int]) -> None: ...

    def problem(self) -> str | None:
        """Why these attributes cannot run (inputs that crash Go's server), or None."""
        ...

    async def pipe(self, stub: Stub) -> None: ...


@runtime_checkable
class Stateful(Protocol):
    """Toxics with per-connection state that survives updates (Go ``StatefulToxic``)."""

    def new_state(self) -> Any: ...


@runtime_checkable
class CleansUp(Protocol):
    """Toxics that must act when removed from a live link (Go ``CleanupToxic``)."""

    def cleanup(self, stub: Stub) -> None: ...


class AttributeToxic:
    """Mixin: attributes are the dataclass's int fields (all Go ints here)."""

    type_name: ClassVar[str]
    go_name: ClassVar[str]
    int_kind: ClassVar[str] = "int64"

    @classmethod
    def schema(cls) -> Struct:
        fields = tuple(Field(f.name, cls.int_kind) for f in dataclasses.fields(cls))  # type: ignore[arg-type]
        return Struct(cls.go_name, fields)

    def attributes(self) -> dict[str, int]:
        return dataclasses.asdict(self)  # type: ignore[call-overload, no-any-return]

    def update(self, values: dict[str, int]) -> None:
        for key, value in values.items():
            setattr(self, key, value)

    def problem(self) -> str | None:
        return None
