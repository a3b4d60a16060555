"""Request bodies are JSON, said so by `Content-Type`: anything else is a clear 415.

Without this, a valid JSON body sent as `text/plain` or with no content type reached
validation as raw bytes and got a puzzling 422 ("input should be a valid dictionary").
The rule (issue 11): a POST, PUT or PATCH that carries a body must declare
`application/json` or `application/<something>+json` (parameters such as charset allowed);
otherwise 415 problem+json with `Accept-Post`/`Accept-Patch`. Accepting any content type
was rejected: `text/plain` is what a cross-site form can send without a CORS preflight.
Every operation with a request body declares the 415 in its OpenAPI document.
"""

from __future__ import annotations

from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from svckit.problems import PROBLEM_MEDIA_TYPE, Problem, problem_responses

BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
JSON = "application/json"


def is_json_media_type(value: str) -> bool:
    media = value.split(";", 1)[0].strip().lower()
    kind, _, subtype = media.partition("/")
    return kind == "application" and (subtype == "json" or subtype.endswith("+json"))


def _has_body(headers: dict[bytes, bytes]) -> bool:
    if b"transfer-encoding" in headers:
        return True
    length = headers.get(b"content-length", b"0").strip()
    return not length.isdigit() or int(length) > 0


class JsonBodyMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in BODY_METHODS:
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        content_type = headers.get(b"content-type", b"").decode("latin-1")
        if not _has_body(headers) or is_json_media_type(content_type):
            await self.app(scope, receive, send)
            return
        told = f"Content-Type {content_type!r}" if content_type else "no Content-Type"
        problem = Problem(415, f"Request body must be {JSON}; got {told}")
        body = problem.body()
        await send({"type": "http.response.start", "status": 415, "headers": [
            (b"content-type", PROBLEM_MEDIA_TYPE.encode()),
            (b"content-length", str(len(body)).encode()),
            (b"accept-post" if scope["method"] == "POST" else b"accept-patch", JSON.encode()),
        ]})
        await send({"type": "http.response.body", "body": body})


def declare_unsupported_media_type(openapi: dict[str, Any]) -> dict[str, Any]:
    """Declare the 415 on every operation that takes a request body."""
    answer = problem_responses(415)[415]
    answer["description"] = f"The request body is not declared as {JSON}"
    for item in openapi.get("paths", {}).values():
        for method, operation in item.items():
            if method.upper() in BODY_METHODS and "requestBody" in operation:
                operation.setdefault("responses", {}).setdefault("415", answer)
    return openapi
