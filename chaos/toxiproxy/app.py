"""The admin HTTP API as a bare ASGI application served by uvicorn.

Why no framework: Toxiproxy clients and its test suite depend on exact Go bytes —
``404 page not found\\n`` for unknown paths, an *empty* 405, ``http.Error``-style
JSON errors with a ``text/plain`` type and trailing newline (except ``/populate``, whose
errors are plain ``application/json``), ``/version`` with a
non-standard content type — and on gorilla/mux semantics (middlewares only on
matched routes). A router of five regexes reproduces that more simply than bending
Starlette's responses; uvicorn (a well-kept server) still does all HTTP/1.1 work.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import secrets
import time
from collections.abc import Awaitable, Callable
from typing import Any

from . import VERSION
from .collection import ApiError, ProxyCollection
from .gojson import marshal
from .metrics import Metrics

log = logging.getLogger("chaos.toxiproxy.api")

HANDLER_TIMEOUT_SECONDS = 25.0
TIMEOUT_BODY = b"<html><head><title>Timeout</title></head><body><h1>Timeout</h1></body></html>"

Send = Callable[[dict[str, Any]], Awaitable[None]]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Reply = tuple[int, list[tuple[bytes, bytes]], bytes]

_JSON = [(b"content-type", b"application/json")]
_TEXT = [(b"content-type", b"text/plain; charset=utf-8"), (b"x-content-type-options", b"nosniff")]


def json_reply(status: int, value: Any) -> Reply:
    return status, list(_JSON), marshal(value)


def error_reply(error: ApiError) -> Reply:
    body = {"error": error.message, "status": error.status, **error.extra}
    return error.status, list(_TEXT), marshal(body) + b"\n"


def empty_reply(status: int = 204) -> Reply:
    return status, [], b""


class RequestIds:
    """xid-style request ids (20 chars, base32hex): time, machine, pid, counter."""

    _ALPHABET = "0123456789abcdefghijklmnopqrstuv"

    def __init__(self) -> None:
        self._machine = secrets.token_bytes(3)
        self._pid = (os.getpid() & 0xFFFF).to_bytes(2, "big")
        self._counter = int.from_bytes(secrets.token_bytes(3), "big")

    def next(self) -> str:
        self._counter = (self._counter + 1) & 0xFFFFFF
        raw = int(time.time()).to_bytes(4, "big") + self._machine + self._pid + self._counter.to_bytes(3, "big")
        number = int.from_bytes(raw, "big") << 4  # 96 bits → 100 bits = 20 chars
        return "".join(self._ALPHABET[(number >> (5 * i)) & 31] for i in reversed(range(20)))


class AdminApp:
    """ASGI app: routes → :class:`ProxyCollection` calls."""

    def __init__(self, collection: ProxyCollection, metrics: Metrics | None) -> None:
        self.collection = collection
        self.metrics = metrics
        self.ids = RequestIds()
        routes: list[tuple[str, dict[str, Callable[..., Awaitable[Reply]]]]] = [
            (r"/reset", {"POST": self._reset}),
            # Embedded-only extension (real Toxiproxy answers 404 here): see _reseed.
            (r"/crashcart/seed", {"GET": self._seed, "POST": self._reseed}),
            (r"/version", {"GET": self._version}),
            (r"/proxies", {"GET": self._list, "POST": self._create}),
            (r"/populate", {"POST": self._populate}),
            (r"/proxies/(?P<proxy>[^/]+)", {
                "GET": self._get, "POST": self._update, "PATCH": self._update, "DELETE": self._delete,
            }),
            (r"/proxies/(?P<proxy>[^/]+)/toxics", {"GET": self._toxics, "POST": self._add_toxic}),
            (r"/proxies/(?P<proxy>[^/]+)/toxics/(?P<toxic>[^/]+)", {
                "GET": self._get_toxic, "POST": self._update_toxic, "PATCH": self._update_toxic,
                "DELETE": self._remove_toxic,
            }),
        ]
        if metrics is not None:
            routes.append((r"/metrics", {"GET": self._metrics}))
        self.routes = [(re.compile(pattern + r"\Z"), methods) for pattern, methods in routes]

    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        status, headers, body = await self._dispatch(scope, receive)
        headers.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    async def _dispatch(self, scope: dict[str, Any], receive: Receive) -> Reply:
        path: str = scope["path"]
        for pattern, methods in self.routes:
            match = pattern.match(path)
            if match is None:
                continue
            handler = methods.get(scope["method"])
            if handler is None:
                return empty_reply(405)
            request_id = self.ids.next()
            reply = await self._guarded(scope, receive, handler, match.groupdict())
            reply[1].append((b"x-toxiproxy-request-id", request_id.encode()))
            log.debug("%s %s → %s", scope["method"], path, reply[0])
            return reply
        return 404, list(_TEXT), b"404 page not found\n"

    async def _guarded(
        self, scope: dict[str, Any], receive: Receive, handler: Callable[..., Awaitable[Reply]],
        params: dict[str, str],
    ) -> Reply:
        agent = dict(scope["headers"]).get(b"user-agent", b"")
        if agent.startswith(b"Mozilla/"):
            return 403, list(_TEXT), b"User agent not allowed\n"
        body = await _read_body(receive)
        try:
            return await asyncio.wait_for(handler(body, **params), HANDLER_TIMEOUT_SECONDS)
        except ApiError as exc:
            return error_reply(exc)
        except TimeoutError:
            return 503, [(b"content-type", b"text/html; charset=utf-8")], TIMEOUT_BODY

    # -- handlers ----------------------------------------------------------
    async def _reset(self, body: bytes) -> Reply:
        await self.collection.reset()
        return empty_reply()

    async def _seed(self, body: bytes) -> Reply:
        return json_reply(200, {"seed": self.collection.seed})

    async def _reseed(self, body: bytes) -> Reply:
        """``POST /crashcart/seed {"seed": N}``: every later toxic decision follows ``N``.

        Not part of Toxiproxy's API (it has no way to reseed: its ``-seed`` is fixed for the
        process). A harness calls it at the start of each experiment, so the per-connection
        decisions follow the experiment's seed rather than the server's start-up one.
        """
        try:
            value = json.loads(body or b"{}").get("seed")
        except (ValueError, AttributeError):
            value = None
        if not isinstance(value, int) or isinstance(value, bool):
            raise ApiError('bad request body: want {"seed": <integer>}', 400)
        await self.collection.reseed(value)
        return json_reply(200, {"seed": value})

    async def _version(self, body: bytes) -> Reply:
        payload = marshal({"version": VERSION}).replace(b'":"', b'": "') + b"\n"
        return 200, [(b"content-type", b"application/json;charset=utf-8")], payload

    async def _list(self, body: bytes) -> Reply:
        return json_reply(200, self.collection.list_json())

    async def _create(self, body: bytes) -> Reply:
        return json_reply(201, (await self.collection.create(body)).to_json())

    async def _populate(self, body: bytes) -> Reply:
        try:
            proxies = await self.collection.populate(body)
        except ApiError as exc:
            # Go's Populate marshals its error itself (not via http.Error): JSON type, no newline.
            return json_reply(exc.status, {"error": exc.message, "status": exc.status, **exc.extra})
        return json_reply(201, {"proxies": None if proxies is None else [p.to_json() for p in proxies]})

    async def _get(self, body: bytes, proxy: str) -> Reply:
        return json_reply(200, self.collection.get(proxy).to_json())

    async def _update(self, body: bytes, proxy: str) -> Reply:
        return json_reply(200, (await self.collection.update(proxy, body)).to_json())

    async def _delete(self, body: bytes, proxy: str) -> Reply:
        await self.collection.delete(proxy)
        return empty_reply()

    async def _toxics(self, body: bytes, proxy: str) -> Reply:
        return json_reply(200, self.collection.get(proxy).toxics_json())

    async def _add_toxic(self, body: bytes, proxy: str) -> Reply:
        return json_reply(200, (await self.collection.add_toxic(proxy, body)).to_json())

    async def _get_toxic(self, body: bytes, proxy: str, toxic: str) -> Reply:
        return json_reply(200, self.collection.get_toxic(proxy, toxic).to_json())

    async def _update_toxic(self, body: bytes, proxy: str, toxic: str) -> Reply:
        return json_reply(200, (await self.collection.update_toxic(proxy, toxic, body)).to_json())

    async def _remove_toxic(self, body: bytes, proxy: str, toxic: str) -> Reply:
        await self.collection.remove_toxic(proxy, toxic)
        return empty_reply()

    async def _metrics(self, body: bytes) -> Reply:
        assert self.metrics is not None
        return 200, [(b"content-type", b"text/plain; version=0.0.4; charset=utf-8")], self.metrics.render()


async def _read_body(receive: Receive) -> bytes:
    parts: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        parts.append(message.get("body", b""))
        if not message.get("more_body"):
            break
    return b"".join(parts)
