"""uvicorn's answer to a request it cannot parse, as a problem document.

Requests that httptools/h11 refuse (an unknown method, a control character in a header, raw
non-ASCII bytes in the path) never reach the app: uvicorn answers a hard-coded `text/plain`
"Invalid HTTP request received." itself, also when nginx forwarded the request. That is the
one error of a service that would not be problem+json, so `install()` replaces uvicorn's
`send_400_response` of both protocol implementations (uvicorn offers no hook; the method is
small and stable: status line, default headers, body, close).
"""

from __future__ import annotations

from typing import Any

from svckit.problems import PROBLEM_MEDIA_TYPE, Problem

_BODY = Problem(400, "The service could not parse the HTTP request").body()


def problem_400_bytes(default_headers: list[tuple[bytes, bytes]]) -> bytes:
    lines = [b"HTTP/1.1 400 Bad Request\r\n"]
    lines += [name + b": " + value + b"\r\n" for name, value in default_headers]
    lines += [b"content-type: " + PROBLEM_MEDIA_TYPE.encode() + b"\r\n",
              b"content-length: " + str(len(_BODY)).encode() + b"\r\n",
              b"connection: close\r\n\r\n", _BODY]
    return b"".join(lines)


def _send_problem_400(self: Any, msg: str) -> None:
    self.transport.write(problem_400_bytes(list(self.server_state.default_headers)))
    self.transport.close()


def install() -> None:
    """Patch uvicorn's protocol classes that are importable (idempotent)."""
    try:
        from uvicorn.protocols.http import httptools_impl
        httptools_impl.HttpToolsProtocol.send_400_response = _send_problem_400  # type: ignore[method-assign]
    except ImportError:  # pragma: no cover - httptools not installed
        pass
    from uvicorn.protocols.http import h11_impl
    h11_impl.H11Protocol.send_400_response = _send_problem_400  # type: ignore[method-assign]
