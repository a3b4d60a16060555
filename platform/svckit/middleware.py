"""One pure-ASGI middleware for request ids, latency metrics, access logs and last-resort errors.

Pure ASGI (not BaseHTTPMiddleware) keeps per-request overhead low. It also answers any
unhandled exception with a problem+json 500 itself, so even that answer carries X-Request-ID
and is counted, and no stack trace ever reaches a client.
"""

from __future__ import annotations

import logging
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from svckit.metrics import HTTP_LATENCY
from svckit.problems import PROBLEM_MEDIA_TYPE, Problem
from svckit.request_id import accept_request_id, request_id_var

log = logging.getLogger("svckit.http")
_QUIET_PATHS = {"/metrics", "/health/live", "/health/ready"}


class ObservabilityMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = None
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                incoming = value.decode("latin-1")
                break
        request_id = accept_request_id(incoming)
        id_header = (b"x-request-id", request_id.encode())
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        status = 500
        response_started = False

        async def send_wrapper(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                response_started = True
                status = message["status"]
                headers = list(message.get("headers", []))
                headers.append(id_header)
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        except Exception:
            log.exception("unhandled error on %s %s", scope["method"], scope["path"])
            status = 500
            if not response_started:
                body = Problem(
                    500, "Internal error; see the service log for this request id").body()
                await send({
                    "type": "http.response.start", "status": 500,
                    "headers": [(b"content-type", PROBLEM_MEDIA_TYPE.encode()),
                                (b"content-length", str(len(body)).encode()),
                                id_header],
                })
                await send({"type": "http.response.body", "body": body})
        finally:
            elapsed = time.perf_counter() - started
            route = scope.get("route")
            template = getattr(route, "path", None)
            if template is None:
                # Plain Starlette routes (/openapi.json, /docs) set no route; the few that
                # answer are labelled by path, anything else shares one label (cardinality).
                template = scope["path"] if status < 300 else "unmatched"
            HTTP_LATENCY.labels(scope["method"], template, str(status)).observe(elapsed)
            if scope["path"] not in _QUIET_PATHS:
                log.info(
                    "%s %s %s", scope["method"], scope["path"], status,
                    extra={"status": status, "duration_ms": round(elapsed * 1000, 2),
                           "route": template},
                )
            request_id_var.reset(token)
