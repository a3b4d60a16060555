"""The data path: one accepted client = one :class:`Connection` = two one-way :class:`Link` s.

Why this design: with no toxics on a stream, bytes never reach Python: a
:class:`~chaos.toxiproxy.splice.Pump` moves them socket → pipe → socket with splice(2)
(Linux; elsewhere, or until the pump can start, bytes go from the source's
``data_received`` straight to the destination transport, no task switch). With toxics,
chunks flow through a chain of stubs (one task each) and a writer task. Live changes
splice stubs in and out between awaits; since channel puts never block and a stub keeps
a chunk queued until it has handled it, that is atomic and no byte is lost or reordered.

Switching between the paths keeps the byte order: a toxic added to a pumping link stops
the pump first and puts what is still in its pipe at the head of the chain before the
source transport reads again; a pump starts only when the chain is empty, the writer has
nothing queued *and* the destination transport's buffer is empty (the link waits for it
to drain, with the source paused), so the kernel path never overtakes queued bytes.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import socket
import struct
from typing import TYPE_CHECKING

from . import splice
from .toxics import CleansUp
from .toxics.base import EOF, Channel, Chunk, Stub

if TYPE_CHECKING:
    from .proxy import Proxy, ToxicEntry

log = logging.getLogger("chaos.toxiproxy")

CHUNK_BYTES = 32 * 1024
"""Largest chunk fed to toxics (Go reads at most 32 KiB at a time)."""
BUFFER_BYTES = 8 * 1024 * 1024
"""Bytes a link may hold in its toxic chain before the source stops being read."""
_LINGER_ZERO = struct.pack("ii", 1, 0)
WRITE_HIGH_BYTES = 256 * 1024
"""Destination transport buffer above which the source stops being read."""


class Side(asyncio.Protocol):
    """One socket of a connection (client or upstream) and its flow-control state."""

    def __init__(self, connection: Connection | None = None) -> None:
        self.connection = connection
        self.transport: asyncio.Transport | None = None
        self.reader: Link | None = None  # link reading from this socket
        self.writer: Link | None = None  # link writing to this socket
        self.lost = False
        self.eof = False
        self.write_paused = False
        self._pause_reasons: set[str] = set()
        self._drain: asyncio.Future[None] | None = None
        self._splice_fd: int | None = None

    # asyncio callbacks
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        transport.set_write_buffer_limits(high=WRITE_HIGH_BYTES)
        if self._pause_reasons:
            transport.pause_reading()

    def data_received(self, data: bytes) -> None:
        reader = self.reader
        if reader is not None:
            reader.on_data(data)

    def eof_received(self) -> bool:
        self.eof = True
        if self.reader is not None:
            self.reader.on_eof()
        return True  # keep writing: the other direction may still deliver queued data

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        self._wake_drain()
        if self.writer is not None:
            self.writer.on_dst_lost()
        if self.reader is not None:
            self.reader.on_eof()
        self._release_splice_fd()  # the transport closes the socket right after this returns
        if self.connection is not None:
            self.connection.side_lost()

    def pause_writing(self) -> None:
        self.write_paused = True
        if self.writer is not None:
            self.writer.src.pause("destination full")

    def resume_writing(self) -> None:
        self.write_paused = False
        self._wake_drain()
        if self.writer is not None:
            self.writer.on_dst_drained()
            self.writer.src.resume("destination full")

    # helpers
    def pause(self, reason: str) -> None:
        if not self._pause_reasons and self.transport is not None and not self.lost:
            self.transport.pause_reading()
        self._pause_reasons.add(reason)

    def resume(self, reason: str) -> None:
        if reason in self._pause_reasons:
            self._pause_reasons.discard(reason)
            if not self._pause_reasons and self.transport is not None and not self.lost:
                self.transport.resume_reading()

    async def drained(self) -> None:
        while self.write_paused and not self.lost:
            self._drain = asyncio.get_running_loop().create_future()
            await self._drain

    def _wake_drain(self) -> None:
        if self._drain is not None and not self._drain.done():
            self._drain.set_result(None)

    def splice_fd(self) -> int:
        """A duplicate of the socket's descriptor for splice readiness (see splice.py)."""
        if self._splice_fd is None:
            assert self.transport is not None
            self._splice_fd = os.dup(self.transport.get_extra_info("socket").fileno())
        return self._splice_fd

    def _release_splice_fd(self) -> None:
        if self._splice_fd is not None:
            loop = asyncio.get_running_loop()
            loop.remove_reader(self._splice_fd)
            loop.remove_writer(self._splice_fd)
            os.close(self._splice_fd)
            self._splice_fd = None

    def usable(self) -> bool:
        return self.transport is not None and not self.lost and not self.transport.is_closing()

    def set_linger_zero(self) -> None:
        sock = self.transport.get_extra_info("socket") if self.transport else None
        if sock is not None:
            try:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_ZERO)
            except OSError:
                pass

    def close(self, *, reset: bool) -> None:
        if self.transport is not None and not self.transport.is_closing():
            if reset:
                self.transport.abort()
            else:
                self.transport.close()


class Link:
    """One direction of a connection: source socket → toxic chain → destination socket."""

    def __init__(self, connection: Connection, stream: str, src: Side, dst: Side) -> None:
        self.connection = connection
        self.stream = stream
        self.src = src
        self.dst = dst
        self.out = Channel()  # the writer's input
        self.stubs: list[Stub] = []
        self.inflight = 0
        self.received = 0
        self.sent = 0
        self.eof = False
        self.done = False
        self.writer_task: asyncio.Task[None] | None = None
        self.pump: splice.Pump | None = None
        self._awaiting_drain = False  # pump wanted, destination buffer still draining
        src.reader = self
        dst.writer = self

    def start(self, entries: list[ToxicEntry]) -> None:
        for entry in entries:
            self._append(entry)
        self.writer_task = asyncio.get_running_loop().create_task(self._write())
        self._maybe_pump()

    # -- source side ---------------------------------------------------------
    def on_data(self, data: bytes) -> None:
        self.received += len(data)
        if self._accept(data):
            self._maybe_pump()

    def _accept(self, data: bytes) -> bool:
        """Forward or queue ``data``; True when it went straight to the destination."""
        size = len(data)
        if not self.stubs and not self.out.items and not self.done:
            if not self.dst.lost:
                self.sent += size
                self.dst.transport.write(data)  # type: ignore[union-attr]
            return True
        entry = self.stubs[0].input if self.stubs else self.out
        stamp = asyncio.get_running_loop().time()
        if size <= CHUNK_BYTES:
            entry.put(Chunk(data, stamp))
        else:
            view = memoryview(data)
            entry.extend([Chunk(bytes(view[i : i + CHUNK_BYTES]), stamp) for i in range(0, size, CHUNK_BYTES)])
        self.inflight += size
        if self.inflight > BUFFER_BYTES:
            self.src.pause("chain full")
        return False

    def on_eof(self) -> None:
        if self.pump is not None:
            self._stop_pump()
        if self.eof:
            return
        self.eof = True
        (self.stubs[0].input if self.stubs else self.out).put(EOF)

    def discard(self, size: int) -> None:
        """A toxic dropped ``size`` bytes."""
        self._release(size)

    def _release(self, size: int) -> None:
        self.inflight -= size
        if self.inflight <= BUFFER_BYTES // 2:
            self.src.resume("chain full")

    # -- destination side ----------------------------------------------------
    async def _write(self) -> None:
        out = self.out
        dst = self.dst
        while True:
            await out.wait()
            while out.items:
                item = out.items.popleft()
                if item is EOF:
                    self._finish()
                    return
                size = len(item.data)
                self._release(size)
                if not dst.lost:
                    self.sent += size
                    dst.transport.write(item.data)  # type: ignore[union-attr]
                if dst.write_paused:
                    await dst.drained()
            self._maybe_pump()

    def on_dst_lost(self) -> None:
        """The destination socket is gone: bytes in a pump's pipe can never be delivered."""
        if self.pump is not None:
            self._stop_pump(deliver=False)

    def on_dst_drained(self) -> None:
        if self._awaiting_drain:
            self._stop_awaiting_drain()
            self._maybe_pump()

    # -- zero-copy path (splice.py) --------------------------------------------
    def _maybe_pump(self) -> None:
        """Hand the stream to a splice pump if nothing queued could be overtaken."""
        if (self.pump is not None or not splice.AVAILABLE or self.stubs or self.out.items
                or self.eof or self.done or not self.src.usable() or not self.dst.usable()):
            return
        transport = self.dst.transport
        assert transport is not None
        if transport.get_write_buffer_size():
            if not self._awaiting_drain:  # high=0: pause the source now, resume when empty
                self._awaiting_drain = True
                log.debug("proxy %s %s: splice waits for %d buffered bytes", self.connection.proxy.name,
                          self.stream, transport.get_write_buffer_size())
                transport.set_write_buffer_limits(high=0, low=0)
            return
        try:
            pump = splice.Pump(asyncio.get_running_loop(), self.src.splice_fd(), self.dst.splice_fd(),
                               ended=self._pump_ended, failed=self._pump_failed)
        except OSError as exc:  # e.g. out of descriptors: stay on the plain path
            log.debug("proxy %s: no splice: %s", self.connection.proxy.name, exc)
            return
        self.pump = pump
        self.src.pause("spliced")
        pump.start()
        log.debug("proxy %s %s: spliced (pipe %d bytes)", self.connection.proxy.name, self.stream,
                  pump.capacity)

    def _stop_awaiting_drain(self) -> None:
        self._awaiting_drain = False
        if self.dst.transport is not None:
            self.dst.transport.set_write_buffer_limits(high=WRITE_HIGH_BYTES)

    def _count_pumped(self, pump: splice.Pump) -> None:
        """Add a finished pump's byte counters to the link's (it keeps its own while it runs)."""
        self.received += pump.received
        self.sent += pump.sent

    def _stop_pump(self, *, deliver: bool = True) -> None:
        """Back to the plain path: bytes still in the pipe go first, then the source reads again."""
        pump = self.pump
        assert pump is not None
        self.pump = None
        left = pump.stop()
        self._count_pumped(pump)
        log.debug("proxy %s %s: pump ends: %d bytes received, %d reads, %d wake-ups",
                  self.connection.proxy.name, self.stream, self.received, pump.reads, pump.wakeups)
        if left:
            log.debug("proxy %s %s: %d bytes left the pipe (%s)", self.connection.proxy.name,
                      self.stream, len(left), "delivered" if deliver else "dropped")
            if deliver:
                self._accept(left)
        if pump.source_done:
            self.on_eof()
        self.src.resume("spliced")

    def _pump_ended(self, error: OSError | None) -> None:
        self._stop_pump()  # EOF travels the plain path: the writer closes the destination
        if error is not None and self.src.transport is not None:
            self.src.transport.abort()  # as the transport does on a read error

    def _pump_failed(self, error: OSError) -> None:
        self._stop_pump(deliver=False)
        if self.dst.transport is not None:
            self.dst.transport.abort()  # as the transport does on a write error

    def _finish(self) -> None:
        self.done = True
        self.dst.close(reset=self.connection.linger_zero)
        self.connection.link_done()

    # -- live chain changes ----------------------------------------------
    def _append(self, entry: ToxicEntry) -> Stub:
        stub = Stub(self, entry, self.connection.rng_for(entry, self.stream))
        if self.stubs:
            self.stubs[-1].output = stub.input
        self.stubs.append(stub)
        stub.start()
        return stub

    def add(self, entry: ToxicEntry) -> None:
        if not self.done:
            self._append(entry)
            if self._awaiting_drain:
                self._stop_awaiting_drain()
            if self.pump is not None:
                self._stop_pump()  # the pipe's bytes enter the new chain first

    def update(self, entry: ToxicEntry) -> None:
        for stub in self.stubs:
            if stub.entry is entry:
                stub.stop()
                stub.start()

    def remove(self, entry: ToxicEntry) -> None:
        for index, stub in enumerate(self.stubs):  # noqa: B007 - index is used after the loop
            if stub.entry is entry:
                break
        else:
            return
        stub.stop()
        successor = self.stubs[index + 1].input if index + 1 < len(self.stubs) else self.out
        if isinstance(entry.toxic, CleansUp) and stub.active and not stub.closed:
            stub.output = successor
            for item in stub.input.items:
                if item is not None:
                    self.discard(len(item.data))
            stub.input.items.clear()
            entry.toxic.cleanup(stub)
        else:
            successor.extend(stub.input.items)
            stub.input.items.clear()
        if index > 0:
            self.stubs[index - 1].output = successor
        del self.stubs[index]
        self._maybe_pump()

    def cancel(self) -> None:
        if self.pump is not None:
            pump, self.pump = self.pump, None
            pump.stop()
            self._count_pumped(pump)
            log.debug("proxy %s %s: pump ends: %d bytes received, %d reads, %d wake-ups",
                      self.connection.proxy.name, self.stream, self.received, pump.reads, pump.wakeups)
        for stub in self.stubs:
            stub.stop()
        if self.writer_task is not None:
            self.writer_task.cancel()
        self.done = True


class Connection:
    """A proxied client: dials upstream, then runs the two links until both end."""

    def __init__(self, proxy: Proxy, client: Side, index: int) -> None:
        self.proxy = proxy
        self.client = client
        self.index = index
        self.upstream = Side(self)
        self.links: list[Link] = []
        self.linger_zero = False
        self.closed = False
        self._dial: asyncio.Task[None] | None = None

    def open(self) -> None:
        self.client.pause("dialing")
        self.upstream.pause("dialing")  # applied in connection_made: no read before links exist
        self._dial = asyncio.get_running_loop().create_task(self._connect())

    async def _connect(self) -> None:
        host, port = self.proxy.upstream_address()
        loop = asyncio.get_running_loop()
        try:
            await loop.create_connection(lambda: self.upstream, host or "localhost", port)
        except (OSError, ValueError) as exc:
            log.info("proxy %s: upstream %s unavailable: %s", self.proxy.name, self.proxy.upstream, exc)
            self.abort()
            return
        if self.closed or self.client.lost:
            self.abort()
            return
        for side in (self.client, self.upstream):
            sock = side.transport.get_extra_info("socket") if side.transport else None
            if sock is not None:
                try:
                    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                except OSError:
                    pass
        up = Link(self, "upstream", self.client, self.upstream)
        down = Link(self, "downstream", self.upstream, self.client)
        self.links = [up, down]
        chains = self.proxy.chains()
        up.start(chains["upstream"])
        down.start(chains["downstream"])
        if any(s.entry.toxic.type_name == "reset_peer" and s.active for link in self.links for s in link.stubs):
            self.linger_zero = True
            self.client.set_linger_zero()
            self.upstream.set_linger_zero()
        if self.client.eof:
            up.on_eof()
        self.client.resume("dialing")
        self.upstream.resume("dialing")

    def rng_for(self, entry: ToxicEntry, stream: str) -> random.Random:
        return random.Random(f"{self.proxy.seed}/{self.proxy.name}/{entry.name}/{self.index}/{stream}")

    def link_done(self) -> None:
        if all(link.done for link in self.links):
            self._teardown()

    def side_lost(self) -> None:
        if self.client.lost and (self.upstream.lost or self.upstream.transport is None) and self.links:
            self._teardown()  # nothing can be delivered any more

    def abort(self) -> None:
        """Close both sockets now (proxy stopped or upstream unreachable)."""
        if self._dial is not None and not self._dial.done() and asyncio.current_task() is not self._dial:
            self._dial.cancel()
        self.client.close(reset=self.linger_zero)
        self.upstream.close(reset=self.linger_zero)
        self._teardown()

    def _teardown(self) -> None:
        if self.closed:
            return
        self.closed = True
        for link in self.links:
            link.cancel()
        self.client.close(reset=self.linger_zero)
        self.upstream.close(reset=self.linger_zero)
        self.proxy.connection_closed(self)

    # live chain changes, per stream
    def link(self, stream: str) -> Link | None:
        for link in self.links:
            if link.stream == stream:
                return link
        return None


