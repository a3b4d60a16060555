"""An httpx client for the gateway that remembers its recent exchanges.

Why: a failing platform test is far easier to read when the report shows the last few
HTTP requests and answers; the client keeps them so a fixture can attach them.
"""
from __future__ import annotations

import json
from collections import deque
from dataclasses import dataclass, field

import httpx

from suites.helpers import trace as test_trace

DEFAULT_TIMEOUT_S = 10.0
PROBLEM_JSON = "application/problem+json"


@dataclass(slots=True)
class Exchange:
    """One request and its answer, rendered as text for a report attachment."""

    request: str
    response: str

    def render(self) -> str:
        return f"{self.request}\n\n{self.response}"


@dataclass(slots=True)
class ExchangeLog:
    """The last `maxlen` exchanges of a client (a bounded ring, so long tests stay cheap)."""

    maxlen: int = 20
    entries: deque[Exchange] = field(init=False)

    def __post_init__(self) -> None:
        self.entries = deque(maxlen=self.maxlen)

    def record(self, response: httpx.Response) -> None:
        request = response.request
        request_text = f"{request.method} {request.url}\n" + _headers(request.headers)
        body = request.content
        if body:
            request_text += "\n\n" + _text(body)
        response_text = f"HTTP {response.status_code}\n" + _headers(response.headers)
        response_text += "\n\n" + _text(response.read())
        exchange = Exchange(request_text, response_text)
        self.entries.append(exchange)
        trace = test_trace.current()
        if trace is not None:
            request_id = response.headers.get("x-request-id") or request.headers.get("x-request-id")
            trace.record_exchange(
                f"{request.method} {request.url.path} -> {response.status_code} "
                f"(X-Request-ID {request_id or '-'})", exchange.render(), request_id)

    def render(self) -> str:
        return "\n\n--------\n\n".join(entry.render() for entry in self.entries)


def gateway_client(base_url: str, *, timeout: float = DEFAULT_TIMEOUT_S) -> tuple[httpx.Client, ExchangeLog]:
    """A client bound to `base_url` whose exchanges are kept in the returned log."""
    log = ExchangeLog()
    client = httpx.Client(
        base_url=base_url,
        timeout=timeout,
        event_hooks={"response": [log.record]},
    )
    return client, log


def is_problem(response: httpx.Response) -> bool:
    """True when the answer is an RFC 9457 problem document."""
    return response.headers.get("content-type", "").split(";")[0].strip() == PROBLEM_JSON


def _headers(headers: httpx.Headers) -> str:
    hidden = {"authorization"}
    return "\n".join(
        f"{name}: {'<redacted>' if name.lower() in hidden else value}"
        for name, value in headers.items()
    )


def _text(body: bytes) -> str:
    try:
        return json.dumps(json.loads(body), indent=2, ensure_ascii=False)
    except ValueError:
        return body.decode("utf-8", errors="replace")[:4000]
