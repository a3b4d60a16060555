"""Zero-copy forwarding for a stream without toxics: socket → pipe → socket with splice(2).

Why: on the plain asyncio path every byte is copied twice (kernel → proxy on ``recv``,
proxy → kernel on ``send``) and allocated as a Python ``bytes`` in between; on a small
machine that made a proxy hop CPU-bound at well under half of a direct connection's
throughput. ``os.splice`` moves the bytes from the source socket into a pipe and from the
pipe into the destination socket without them ever reaching user space.

How it fits the event loop: readiness comes from ``loop.add_reader``/``add_writer`` on a
*duplicate* of each socket's descriptor (asyncio refuses callbacks on a descriptor that a
transport owns, and the transports stay in charge of closing). The source transport's own
reading is paused while a :class:`Pump` runs. When the pump stops (a toxic is added, a side
goes away, EOF), :meth:`Pump.stop` hands back whatever is still in the pipe, so the link can
put those bytes, in order, in front of everything read later. Linux only; elsewhere
:data:`AVAILABLE` is false and links keep the plain path.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import sys
from collections.abc import Callable

ENV_DISABLE = "CHAOS_TOXIPROXY_NO_SPLICE"
"""Set to a non-empty value to keep every stream on the plain asyncio path (A/B checks)."""

AVAILABLE = sys.platform.startswith("linux") and hasattr(os, "splice") and not os.environ.get(ENV_DISABLE)
"""splice(2) is usable here (Linux, Python ≥ 3.10) and not disabled by the environment."""

PIPE_BYTES = 256 * 1024
"""Pipe capacity a bulk stream grows to: 256 KiB (1 MiB, the default
``/proc/sys/fs/pipe-max-size``, measured no better on the benchmark, and smaller pipes use
less of the per-user quota).

A pipe starts at the kernel default (64 KiB) and grows once a read fills it, so idle and
request/response connections do not count 256 KiB each against the per-user pipe quota
(``/proc/sys/fs/pipe-user-pages-soft``; unprivileged users past it get tiny pipes)."""

SMALL_READ_BYTES = 16 * 1024
"""Reads shorter than this mark a stream as request/response: its next read uses read(2) and
write(2) instead of two splices (cheaper for a few bytes); a full read switches back."""

READ_BUDGET_BYTES = 1024 * 1024
"""Most a bulk stream moves in one readiness callback: while each read fills the pipe and the
destination takes it all, the pump reads again at once instead of returning to the event loop
(one wake-up per pipe costs more Python than the two splices); the budget keeps one fast
connection from holding the loop (and the API, and other connections) for more than about a
millisecond. 4 MiB measured no cheaper per GB and registered the destination's writer more
often (the longer loop ends on a full destination more often)."""

_FLAGS = getattr(os, "SPLICE_F_MOVE", 1) | getattr(os, "SPLICE_F_NONBLOCK", 2)
_SETPIPE_SZ = getattr(fcntl, "F_SETPIPE_SZ", 1031)
_GETPIPE_SZ = getattr(fcntl, "F_GETPIPE_SZ", 1032)


class Pump:
    """Moves bytes from ``src_fd`` to ``dst_fd`` through a pipe, on readiness callbacks.

    Byte counters ``received``/``sent`` are plain attributes the owner reads when it needs
    them (no callback per transfer: on 64-byte round trips the Python work per wake-up is
    what a proxy hop adds to the latency). Callbacks into the owner: ``ended(error)`` once,
    when the source reached EOF (``error`` None) or a read failed, after every byte already
    read has been written; ``failed(error)`` once, when writing to the destination failed
    (bytes still in the pipe cannot be delivered). The pump is inactive after either; the
    owner then calls :meth:`stop`.
    """

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        src_fd: int,
        dst_fd: int,
        *,
        ended: Callable[[OSError | None], None],
        failed: Callable[[OSError], None],
    ) -> None:
        self._loop = loop
        self._src = src_fd
        self._dst = dst_fd
        self._ended = ended
        self._failed = failed
        self._read_end, self._write_end = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        self.capacity = fcntl.fcntl(self._write_end, _GETPIPE_SZ)
        self._grown = self.capacity >= PIPE_BYTES
        self.pending = 0
        """Bytes read from the source and not yet written to the destination."""
        self.received = 0
        """Bytes read from the source so far."""
        self.sent = 0
        """Bytes written to the destination so far."""
        self.reads = 0
        """Successful reads from the source (bytes per read = efficiency of a pump)."""
        self.source_done = False
        self._source_error: OSError | None = None
        self._reading = False
        self._writing = False
        self._blocked = False
        self._small = True  # until a read fills SMALL_READ_BYTES
        self._stopped = False
        self.wakeups = 0
        """Readiness callbacks run (diagnostics: wake-ups per byte)."""

    def start(self) -> None:
        self._update()

    # -- readiness callbacks ---------------------------------------------
    def _on_readable(self) -> None:
        self.wakeups += 1
        if self._small and not self.pending:
            self._copy_small()
        else:
            self._splice_in()

    def _splice_in(self) -> None:
        """Splice into the pipe and on to the destination, again while both sides keep up."""
        budget = READ_BUDGET_BYTES
        while True:
            room = self.capacity - self.pending
            try:
                count = os.splice(self._src, self._write_end, room, flags=_FLAGS)
            except BlockingIOError:
                break
            except OSError as exc:
                self._source_finished(exc)
                return
            if count == 0:
                self._source_finished(None)
                return
            self.received += count
            self.reads += 1
            self._small = count < SMALL_READ_BYTES
            if count == room and not self._grown:
                self._grow()
            self.pending += count
            if self._writing:  # the destination is full: wait for it, keep filling the pipe
                break
            self._flush()
            if self._stopped:  # writing failed: the owner has been told
                return
            budget -= count
            # a short read means the source is drained; a blocked flush waits for writable
            if self._blocked or count < room or budget <= 0:
                break
        self._update()

    def _copy_small(self) -> None:
        """Request/response traffic: read(2) + write(2) beat two splices for a few bytes.

        Only used with an empty pipe, so nothing can be overtaken; what the destination
        does not take at once goes into the pipe, behind nothing, and is spliced from there.
        With everything written the registrations stay as they are (reading, not writing),
        so the common case returns without touching the event loop.
        """
        try:
            data = os.read(self._src, SMALL_READ_BYTES)
        except BlockingIOError:
            return
        except OSError as exc:
            self._source_finished(exc)
            return
        size = len(data)
        if not size:
            self._source_finished(None)
            return
        self.received += size
        self.reads += 1
        try:
            sent = os.write(self._dst, data)
        except BlockingIOError:
            sent = 0
        except OSError as exc:
            self._fail(exc)
            return
        self.sent += sent
        if size >= SMALL_READ_BYTES:
            self._small = False
        if sent < size:  # destination full: the rest waits in the (empty) pipe
            self.pending = os.write(self._write_end, data[sent:])
            assert self.pending == size - sent  # SMALL_READ_BYTES <= pipe capacity
            self._blocked = True
            self._update()

    def _on_writable(self) -> None:
        self.wakeups += 1
        self._flush()
        self._update()

    # -- internals ----------------------------------------------------------
    def _flush(self) -> None:
        """Write from the pipe until it is empty or the destination is full."""
        self._blocked = False
        while self.pending:
            try:
                count = os.splice(self._read_end, self._dst, self.pending, flags=_FLAGS)
            except BlockingIOError:
                self._blocked = True
                break
            except OSError as exc:
                self._fail(exc)
                return
            self.pending -= count
            self.sent += count

    def _update(self) -> None:
        """Register exactly the readiness this state needs; report the end of the source."""
        if self._stopped:
            self._read(False)
            self._write(False)
            return
        self._read(not self.source_done and self.pending < self.capacity)
        self._write(self._blocked and self.pending > 0)
        if self.source_done and not self.pending:
            self._stopped = True
            self._read(False)
            self._write(False)
            self._ended(self._source_error)

    def _grow(self) -> None:
        """A read filled the pipe: this is a bulk stream, give it a big pipe (once)."""
        self._grown = True
        try:
            self.capacity = fcntl.fcntl(self._write_end, _SETPIPE_SZ, PIPE_BYTES)
        except OSError:
            pass  # over the per-user pipe quota: keep the default size

    def _fail(self, error: OSError) -> None:
        """Writing failed: stop for good and tell the owner (the pipe's bytes are lost)."""
        self._stopped = True
        self._update()
        self._failed(error)

    def _source_finished(self, error: OSError | None) -> None:
        self.source_done = True
        self._source_error = error
        if not self._writing:
            self._flush()
        self._update()

    def _read(self, on: bool) -> None:
        if on and not self._reading:
            self._loop.add_reader(self._src, self._on_readable)
            self._reading = True
        elif not on and self._reading:
            self._loop.remove_reader(self._src)
            self._reading = False

    def _write(self, on: bool) -> None:
        if on and not self._writing:
            self._loop.add_writer(self._dst, self._on_writable)
            self._writing = True
        elif not on and self._writing:
            self._loop.remove_writer(self._dst)
            self._writing = False

    def stop(self) -> bytes:
        """Unregister, close the pipe and return the bytes still in it (oldest first)."""
        self._stopped = True
        self._read(False)
        self._write(False)
        left = bytearray()
        if self._read_end >= 0:
            while self.pending:
                try:
                    data = os.read(self._read_end, self.pending)
                except BlockingIOError:
                    break
                if not data:
                    break
                left += data
                self.pending -= len(data)
            os.close(self._read_end)
            os.close(self._write_end)
            self._read_end = self._write_end = -1
        return bytes(left)
