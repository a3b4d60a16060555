"""uvicorn's httptools protocol with each response leaving in one send instead of two.

uvicorn writes a response's status line and headers with one ``transport.write`` and its
body with another: two ``send(2)`` calls, two TCP segments, and on the mesh often two
wake-ups, reads and writes of the Toxiproxy in front of the service and two reads in nginx or
the calling service (measured in docs/performance.md). :class:`OneSendTransport` holds a
write back until the next one comes (the body, in the same step of the same task) or, if
none does, until the event loop's next iteration, and sends what it holds with it.

Services run under it with ``uvicorn --http svckit.http_protocol:OneSendHttpToolsProtocol``
(both backends: chaos/backends/local/services.py and docker-compose.yml).
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

Data = bytes | bytearray | memoryview


class OneSendTransport:
    """A transport that sends a write together with the one after it.

    Everything but writing, closing and the buffer size is the wrapped transport's own
    (``__getattr__``). Nothing held is ever lost or reordered: ``close``/``write_eof``
    send it first, the next loop iteration sends it when no second write came, and
    ``abort`` (or a peer gone before the next iteration) drops it as the transport drops
    its own buffer.
    """

    __slots__ = ("_transport", "_loop", "_held")

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._held: bytes | None = None

    def write(self, data: Data) -> None:
        held = self._held
        if held is None:
            if data:
                self._held = bytes(data)
                self._loop.call_soon(self.flush)
            return
        self._held = None
        self._transport.write(held + data if data else held)

    def writelines(self, list_of_data: list[Data]) -> None:
        self.write(b"".join(list_of_data))

    def flush(self) -> None:
        """Send what is held now (scheduled after every held write). On a transport that
        is closing (the peer went away in between) it is dropped, as the transport would."""
        held, self._held = self._held, None
        if held and not self._transport.is_closing():
            self._transport.write(held)

    def write_eof(self) -> None:
        self.flush()
        self._transport.write_eof()

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def abort(self) -> None:
        self._held = None
        self._transport.abort()

    def get_write_buffer_size(self) -> int:
        return self._transport.get_write_buffer_size() + len(self._held or b"")

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class OneSendHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol on a :class:`OneSendTransport`."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(OneSendTransport(transport, self.loop))  # type: ignore[arg-type]
