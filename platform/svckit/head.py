"""HEAD wherever GET is served (RFC 9110 §9.3.2): answered as the GET, without the body.

FastAPI routes declared with GET answer HEAD with 405; rather than declaring a HEAD operation
next to every GET in the OpenAPI documents, this pure-ASGI layer runs the GET and drops the
body bytes, so status and headers (Content-Length included) are exactly the GET's.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class HeadAsGetMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return
        body_done = False

        async def send_headers_only(message: Message) -> None:
            nonlocal body_done
            if message["type"] == "http.response.body":
                if body_done:
                    return
                if message.get("more_body", False):
                    return
                body_done = True
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, send_headers_only)
