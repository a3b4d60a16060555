"""A proxy: its listener, its toxic chains and its live connections."""

from __future__ import annotations

import asyncio
import errno
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from . import addresses
from .gojson import float32_text
from .link import Connection, Side
from .toxics import AttributeToxic

if TYPE_CHECKING:
    from .metrics import Metrics

log = logging.getLogger("chaos.toxiproxy")

STREAMS = ("upstream", "downstream")


@dataclass(slots=True, eq=False)
class ToxicEntry:
    """One configured toxic; shared (not copied) by every connection's stub."""

    name: str
    type: str
    stream: str
    """Stream string exactly as the client sent it (Go echoes it back)."""
    direction: str
    """Normalised stream: ``upstream`` or ``downstream``."""
    toxicity: float
    toxic: AttributeToxic

    def to_json(self) -> dict[str, Any]:
        return {
            "attributes": self.toxic.attributes(),
            "name": self.name,
            "type": self.type,
            "stream": self.stream,
            "toxicity": _Float32(self.toxicity),
        }


class _Float32(float):
    """A float rendered the way Go renders float32 in JSON (see jsonout)."""

    def go_text(self) -> str:
        return float32_text(self)


@dataclass(eq=False)
class Proxy:
    name: str
    listen: str
    upstream: str
    seed: int
    metrics: Metrics | None = None
    enabled: bool = False
    chain: dict[str, list[ToxicEntry]] = field(default_factory=lambda: {s: [] for s in STREAMS})
    connections: set[Connection] = field(default_factory=set)
    _server: asyncio.AbstractServer | None = None
    _accepted: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "listen": self.listen,
            "upstream": self.upstream,
            "enabled": self.enabled,
            # Go's Proxy struct serialises its untagged zerolog Logger field as an empty
            # object; real Toxiproxy 2.12 sends it on every proxy, so we do too.
            "Logger": {},
            "toxics": self.toxics_json(),
        }

    def toxics_json(self) -> list[dict[str, Any]]:
        return [entry.to_json() for stream in STREAMS for entry in self.chain[stream]]

    # -- lifecycle -------------------------------------------------------
    async def start(self) -> None:
        """Listen (Go ``Start``); raises ListenError. Already running → no-op error for /reset."""
        if self.enabled:
            raise RuntimeError("Proxy already started")
        sock, real = await addresses.bind(self.listen)
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(self._new_side, sock=sock, backlog=4096)
        self.listen = real
        self.enabled = True
        log.info("proxy %s listening on %s → %s", self.name, self.listen, self.upstream)

    async def restart(self, listen: str, upstream: str) -> None:
        """Go's stop-then-start at a new listen address/upstream, but all-or-nothing.

        The new address is bound while the old listener still runs; only when that works
        are the old listener and connections closed. If it overlaps the old address (same
        port, e.g. only the upstream changed), the old listener is closed for a retry and
        re-opened on its concrete address if the retry fails too. A raised ListenError
        means the proxy is as it was: listening, same address, toxics and connections.
        """
        loop = asyncio.get_running_loop()
        try:
            sock, real = await addresses.bind(listen)
        except addresses.ListenError as exc:
            if self._server is None or exc.errno != errno.EADDRINUSE:
                raise
            self._server.close()
            self._server = None
            try:
                sock, real = await addresses.bind(listen)
            except addresses.ListenError:
                await self._listen_again()
                raise
        if self._server is not None:
            self._server.close()
            self._server = None
        for connection in list(self.connections):
            connection.abort()
        self._server = await loop.create_server(self._new_side, sock=sock, backlog=4096)
        self.listen, self.upstream, self.enabled = real, upstream, True
        log.info("proxy %s listening on %s → %s", self.name, self.listen, self.upstream)

    async def _listen_again(self) -> None:
        """Re-open the listener on the current (concrete) address after a failed move."""
        try:
            sock, _ = await addresses.bind(self.listen)
            self._server = await asyncio.get_running_loop().create_server(
                self._new_side, sock=sock, backlog=4096)
        except (addresses.ListenError, OSError) as exc:
            log.error("proxy %s: cannot listen again on %s: %s", self.name, self.listen, exc)
            self.stop()

    def stop(self) -> None:
        """Close the listener and every live connection; idempotent."""
        if self._server is not None:
            self._server.close()
            self._server = None
        self.enabled = False
        for connection in list(self.connections):
            connection.abort()

    def _new_side(self) -> Side:
        return _AcceptedSide(self)

    def accepted(self, side: Side) -> None:
        connection = Connection(self, side, self._accepted)
        self._accepted += 1
        side.connection = connection
        self.connections.add(connection)
        connection.open()

    def connection_closed(self, connection: Connection) -> None:
        self.connections.discard(connection)
        if self.metrics is not None:
            for link in connection.links:
                self.metrics.link_finished(self, link.stream, link.received, link.sent)

    def upstream_address(self) -> tuple[str, int]:
        host, port = addresses.split_host_port(self.upstream)
        return host, addresses.parse_port(port, self.upstream)

    def chains(self) -> dict[str, list[ToxicEntry]]:
        return {stream: list(entries) for stream, entries in self.chain.items()}

    # -- toxics ------------------------------------------------------------
    def find_toxic(self, name: str) -> ToxicEntry | None:
        for stream in STREAMS:
            for entry in self.chain[stream]:
                if entry.name == name:
                    return entry
        return None

    def add_toxic(self, entry: ToxicEntry) -> None:
        self.chain[entry.direction].append(entry)
        for connection in self.connections:
            link = connection.link(entry.direction)
            if link is not None:
                link.add(entry)

    def update_toxic(self, entry: ToxicEntry) -> None:
        for connection in self.connections:
            link = connection.link(entry.direction)
            if link is not None:
                link.update(entry)

    def remove_toxic(self, entry: ToxicEntry) -> None:
        self.chain[entry.direction].remove(entry)
        for connection in list(self.connections):
            link = connection.link(entry.direction)
            if link is not None:
                link.remove(entry)

    def remove_all_toxics(self) -> None:
        for stream in STREAMS:
            for entry in list(self.chain[stream]):
                self.remove_toxic(entry)


class _AcceptedSide(Side):
    """The client socket of a new connection; hands itself to the proxy when accepted."""

    def __init__(self, proxy: Proxy) -> None:
        super().__init__()
        self._proxy = proxy

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        self._proxy.accepted(self)
