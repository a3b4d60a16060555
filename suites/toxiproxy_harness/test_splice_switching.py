"""The embedded server's hand-over from the toxic chain back to the splice(2) pump.

Why in-process: the branch where a stream is toxic-free again while its destination
transport still buffers bytes depends on socket buffer sizes the kernel tunes itself, so a
black-box test reaches it only by luck (the conformance tests in test_live_changes.py cover
the orders that can be forced from outside). Here a real proxy runs on this test's event
loop with real sockets; the bytes the chain's writer would have left in the destination
transport are put there directly, then the toxic is removed. The pump must wait until
those bytes have drained (the source paused meanwhile), and every byte must arrive in order.
"""
from __future__ import annotations

import asyncio
import json
import os
import socket
from collections.abc import Callable, Coroutine
from typing import Any

import pytest

from chaos.toxiproxy import splice
from chaos.toxiproxy.collection import ProxyCollection
from chaos.toxiproxy.link import Link

pytestmark = pytest.mark.skipif(not splice.AVAILABLE, reason="needs Linux splice(2)")


async def _wait_for(predicate: Callable[[], bool], timeout_s: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not predicate():
        assert asyncio.get_running_loop().time() < deadline, "condition not reached in time"
        await asyncio.sleep(0.005)


async def _scenario() -> None:
    received = bytearray()
    gate = asyncio.Event()

    async def gated_sink(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await gate.wait()
        while data := await reader.read(1 << 20):
            received.extend(data)
        writer.close()

    upstream = await asyncio.start_server(gated_sink, "127.0.0.1", 0)
    upstream_port = upstream.sockets[0].getsockname()[1]
    collection = ProxyCollection(seed=1)
    try:
        proxy = await collection.create(json.dumps({
            "name": "handover", "listen": "127.0.0.1:0",
            "upstream": f"127.0.0.1:{upstream_port}"}).encode())
        await collection.add_toxic("handover", b'{"type":"noop","stream":"upstream"}')
        port = int(proxy.listen.rsplit(":", 1)[1])
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        await _wait_for(lambda: any(c.links for c in proxy.connections))
        connection = next(iter(proxy.connections))
        link = connection.link("upstream")
        assert isinstance(link, Link) and link.pump is None  # a toxic: the chain path

        queued = os.urandom(16 * 1024 * 1024)  # more than the kernel buffers take
        assert link.dst.transport is not None
        link.dst.transport.write(queued)
        assert link.dst.transport.get_write_buffer_size() > 0

        await collection.remove_toxic("handover", "noop_upstream")
        assert link.pump is None, "spliced while bytes were still buffered for the destination"
        later = os.urandom(2 * 1024 * 1024)
        writer.write(later)
        await asyncio.sleep(0.2)
        assert link.pump is None and link.dst.transport.get_write_buffer_size() > 0

        gate.set()
        await _wait_for(lambda: len(received) >= len(queued) + len(later))
        assert bytes(received) == queued + later, "bytes were lost, reordered or corrupted"
        assert link.pump is not None, "the stream never went back to splice(2)"
        writer.close()
    finally:
        collection.stop_all()
        upstream.close()
        await upstream.wait_closed()


SCENARIO_LIMIT_S = 60.0
"""An in-process scenario's bound: pytest-timeout's alarm cannot stop a stuck event loop
(asyncio swallows the exception it raises inside a readiness callback), a wait_for can."""


async def _bounded(scenario: Coroutine[Any, Any, None]) -> None:
    await asyncio.wait_for(scenario, SCENARIO_LIMIT_S)


def test_pump_starts_only_after_the_destination_buffer_drained() -> None:
    asyncio.run(_bounded(_scenario()))


def _tcp_pair(receive_buffer: int | None = None) -> tuple[socket.socket, socket.socket]:
    """A connected loopback TCP pair (the proxy only ever splices TCP sockets), non-blocking."""
    with socket.create_server(("127.0.0.1", 0)) as listener:
        client = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if receive_buffer is not None:
            client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
        client.connect(listener.getsockname())
        server, _ = listener.accept()
    for sock in (client, server):
        sock.setblocking(False)
    return server, client


async def _pump_scenario() -> None:
    """A pump between two real socket pairs: small writes (read/write path), a destination
    that fills up (the rest waits in the pipe), then bulk (splice path); the destination
    reads everything at the end and must see it all, in order, followed by the EOF."""
    loop = asyncio.get_running_loop()
    source_out, source_in = _tcp_pair()
    dest_out, dest_in = _tcp_pair(receive_buffer=4096)
    dest_out.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    ended: asyncio.Future[OSError | None] = loop.create_future()
    pump = splice.Pump(loop, source_in.fileno(), dest_out.fileno(),
                       ended=ended.set_result, failed=lambda exc: ended.set_exception(exc))
    pump.start()
    expected = bytearray()
    try:
        for index in range(2000):  # small messages until the destination is full
            message = f"{index:08d}".encode() * 8
            await loop.sock_sendall(source_out, message)
            expected += message
            await asyncio.sleep(0)
        await asyncio.sleep(0.05)
        assert pump.pending > 0, "the destination never filled up"
        bulk = os.urandom(4 * 1024 * 1024)
        sender = asyncio.ensure_future(loop.sock_sendall(source_out, bulk))
        expected += bulk
        received = bytearray()
        while len(received) < len(expected):
            received += await asyncio.wait_for(loop.sock_recv(dest_in, 1 << 20), 10)
        await sender
        source_out.close()
        assert await asyncio.wait_for(ended, 10) is None
        assert bytes(received) == bytes(expected), "bytes were lost, reordered or corrupted"
        assert (pump.received, pump.sent) == (len(expected), len(expected))
        assert pump.stop() == b""
    finally:
        pump.stop()
        for sock in (source_out, source_in, dest_out, dest_in):
            sock.close()


def test_pump_copies_small_messages_splices_bulk_and_keeps_the_order() -> None:
    asyncio.run(_bounded(_pump_scenario()))
