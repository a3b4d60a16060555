"""The services' uvicorn protocol sends a response in one write, and changes nothing else.

Against a real uvicorn server on loopback (one connection, keep-alive): a JSON response,
an empty 204, a HEAD, a streamed response and an error all arrive complete and in order,
and the socket sees one write per plain response where uvicorn's own protocol makes two.
The transport's rules (nothing held is lost, reordered or sent after close) are checked
directly on a recording transport.
"""
from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route
from svckit.http_protocol import OneSendHttpToolsProtocol, OneSendTransport
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol


class Recorder:
    """A transport that records what is written to it (and delegates nothing)."""

    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.closed = self.aborted = self.eof = False
        self.lost = False  # the peer went away

    def write(self, data: bytes) -> None:
        assert not self.closed, "written after close"
        self.writes.append(bytes(data))

    def close(self) -> None:
        self.closed = True

    def abort(self) -> None:
        self.aborted = True

    def is_closing(self) -> bool:
        return self.closed or self.aborted or self.lost

    def write_eof(self) -> None:
        self.eof = True

    def get_write_buffer_size(self) -> int:
        return 0

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return f"extra:{name}"


def _wrapped() -> tuple[OneSendTransport, Recorder]:
    recorder = Recorder()
    return OneSendTransport(recorder, asyncio.get_running_loop()), recorder  # type: ignore[arg-type]


def test_two_writes_of_one_step_leave_as_one() -> None:
    async def scenario() -> None:
        transport, recorder = _wrapped()
        transport.write(b"head ")
        assert recorder.writes == [] and transport.get_write_buffer_size() == 5
        transport.write(b"body")
        assert recorder.writes == [b"head body"]
        await asyncio.sleep(0)  # the scheduled flush finds nothing
        assert recorder.writes == [b"head body"]

    asyncio.run(scenario())


def test_a_lone_write_leaves_at_the_next_iteration_and_order_is_kept() -> None:
    async def scenario() -> None:
        transport, recorder = _wrapped()
        transport.write(b"1")
        transport.write(b"2")
        transport.write(b"3")  # held: nothing follows it in this step
        await asyncio.sleep(0)
        transport.writelines([b"4", b"5"])
        transport.write(b"")  # an empty write sends what is held
        assert recorder.writes == [b"12", b"3", b"45"]

    asyncio.run(scenario())


def test_close_and_eof_send_what_is_held_first_and_abort_drops_it() -> None:
    async def scenario() -> None:
        transport, recorder = _wrapped()
        transport.write(b"last words")
        transport.close()
        assert recorder.writes == [b"last words"] and recorder.closed
        other, second = _wrapped()
        other.write(b"before eof")
        other.write_eof()
        assert second.writes == [b"before eof"] and second.eof
        third, dropped = _wrapped()
        third.write(b"never sent")
        third.abort()
        await asyncio.sleep(0)
        assert dropped.writes == [] and dropped.aborted
        assert third.get_extra_info("peername") == "extra:peername"  # the rest is delegated
        fourth, gone = _wrapped()
        fourth.write(b"for a peer that left")
        gone.lost = True  # the connection was lost before the next iteration
        await asyncio.sleep(0)
        assert gone.writes == []  # dropped, not written to a closed transport

    asyncio.run(scenario())


async def _json(_: Request) -> Response:
    return JSONResponse({"ok": True, "text": "x" * 300})


async def _empty(_: Request) -> Response:
    return Response(status_code=204)


async def _stream(_: Request) -> Response:
    async def chunks() -> AsyncIterator[bytes]:
        for index in range(3):
            yield f"chunk {index};".encode()
            await asyncio.sleep(0.01)

    return StreamingResponse(chunks(), media_type="text/plain")


async def _fail(_: Request) -> Response:
    raise RuntimeError("boom")


APP = Starlette(routes=[Route("/json", _json, methods=["GET", "HEAD"]),
                        Route("/empty", _empty), Route("/stream", _stream), Route("/fail", _fail)])


def _counting(base: type[HttpToolsProtocol]) -> tuple[type[HttpToolsProtocol], list[int]]:
    """`base` with the socket's writes counted (under its own transport wrapper, if any)."""
    writes: list[int] = []

    class Counting:
        def __init__(self, transport: asyncio.Transport) -> None:
            self._transport = transport

        def write(self, data: bytes) -> None:
            writes.append(len(data))
            self._transport.write(data)

        def __getattr__(self, name: str) -> Any:
            return getattr(self._transport, name)

    class Protocol(base):  # type: ignore[misc, valid-type]
        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(Counting(transport))  # type: ignore[arg-type]

    return Protocol, writes


@contextlib.asynccontextmanager
async def _server(protocol: type[HttpToolsProtocol]) -> AsyncIterator[str]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(APP, http=protocol, log_level="critical", lifespan="off")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        while not server.started:
            await asyncio.sleep(0.01)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        await task


async def _exchange(protocol: type[HttpToolsProtocol]) -> list[httpx.Response]:
    async with _server(protocol) as url, httpx.AsyncClient(base_url=url) as client:
        return [await client.get("/json"), await client.get("/empty"),
                await client.head("/json"), await client.get("/stream"),
                await client.get("/fail"), await client.get("/json")]


def test_every_kind_of_response_arrives_whole_on_one_connection() -> None:
    answers = asyncio.run(_exchange(OneSendHttpToolsProtocol))
    json_get, empty, head, stream, fail, again = answers
    assert json_get.status_code == 200 and json_get.json() == {"ok": True, "text": "x" * 300}
    assert empty.status_code == 204 and empty.content == b""
    assert head.status_code == 200 and head.content == b""
    assert int(head.headers["content-length"]) == len(json_get.content)
    assert stream.text == "chunk 0;chunk 1;chunk 2;"
    assert fail.status_code == 500
    assert again.json() == json_get.json()


@pytest.mark.parametrize(("protocol", "writes_per_response"),
                         [(OneSendHttpToolsProtocol, 1), (HttpToolsProtocol, 2)],
                         ids=["one-send", "uvicorn's own"])
def test_a_plain_response_is_one_write_on_the_socket(protocol: type[HttpToolsProtocol],
                                                     writes_per_response: int) -> None:
    async def scenario() -> list[int]:
        counting, writes = _counting(protocol)
        async with _server(counting) as url, httpx.AsyncClient(base_url=url) as client:
            await client.get("/json")
            before = len(writes)
            for _ in range(5):
                assert (await client.get("/json")).status_code == 200
            return writes[before:]

    assert len(asyncio.run(scenario())) == 5 * writes_per_response
