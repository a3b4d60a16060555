"""Patched copies of providers, for the tests that must show a verification failing.

Why: "a renamed or retyped field fails verification" has to be shown by changing the
provider's behaviour, never by editing a pact file. These ASGI wrappers serve the real
service app and rewrite its JSON answers on the way out; production code is untouched and
nothing here is reachable unless a test serves it (``run_provider(..., app=...)``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

Rewrite = Callable[[Any], Any]


class RewriteJson:
    """Serve ``app`` but pass each JSON response body for a path under ``prefix`` through
    ``rewrite``."""

    def __init__(self, app: ASGIApp, prefix: str, rewrite: Rewrite) -> None:
        self.app, self.prefix, self.rewrite = app, prefix, rewrite

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not str(scope.get("path", "")).startswith(self.prefix):
            await self.app(scope, receive, send)
            return
        started: dict[str, Any] = {}
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                started.update(message)
                return
            if message["type"] != "http.response.body":
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body"):
                return
            body = b"".join(chunks)
            headers = [(k, v) for k, v in started.get("headers", [])]
            if dict(headers).get(b"content-type", b"").startswith(b"application/json"):
                body = json.dumps(self.rewrite(json.loads(body))).encode()
                headers = [(k, v) for k, v in headers if k != b"content-length"]
                headers.append((b"content-length", str(len(body)).encode()))
            await send({**started, "headers": headers})
            await send({"type": "http.response.body", "body": body})

        await self.app(scope, receive, capture)


def _rename(doc: Any, old: str, new: str) -> Any:
    if isinstance(doc, dict):
        return {(new if k == old else k): _rename(v, old, new) for k, v in doc.items()}
    if isinstance(doc, list):
        return [_rename(v, old, new) for v in doc]
    return doc


def _product_app() -> ASGIApp:
    from product_service.main import app

    return app


def _retype(doc: Any, key: str, to: Callable[[Any], Any]) -> Any:
    if isinstance(doc, dict):
        return {k: (to(v) if k == key else _retype(v, key, to)) for k, v in doc.items()}
    if isinstance(doc, list):
        return [_retype(v, key, to) for v in doc]
    return doc


product_price_renamed = RewriteJson(
    _product_app(), "/api/v1/products",
    lambda doc: _retype(_rename(doc, "price", "unit_cost"), "stock", str))
"""product-service whose product documents call ``price`` ``unit_cost`` and send ``stock``
as a string (``5`` -> ``"5"``): one renamed and one retyped field."""
