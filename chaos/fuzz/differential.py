"""Differential testing, gateway versus direct: the same request sent both ways must get the
same answer, except for the gateway behaviour documented here — THE one list of the
gateway's deliberate differences (docs/fuzz.md repeats it for readers).

Used by the Schemathesis check in `hooks_differential.py`: every case the fuzzer sends
through the gateway is re-sent, byte for byte, to the service's own port and compared.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx


@dataclass(frozen=True, slots=True)
class GatewayDifference:
    name: str
    why: str


DOCUMENTED_DIFFERENCES: tuple[GatewayDifference, ...] = (
    GatewayDifference("X-Request-ID", "the gateway keeps a well-formed caller id or sets its "
                      "own; the service alone sets a different new one: header not compared"),
    GatewayDifference("rate limit", "429 from nginx limit_req (per client address); the "
                      "service has no rate limit: a gateway 429 is not compared"),
    GatewayDifference("body limit", "413 above client_max_body_size (1m); the service reads "
                      "larger bodies: a gateway 413 is not compared"),
    GatewayDifference("/internal", "any path with an `internal` segment is 403 at the "
                      "gateway, served by the service (service-to-service): not compared"),
    GatewayDifference("unrouted paths", "paths outside the routes are the gateway's own 404 "
                      "(with `request_id`); the service's 404 differs in detail: not compared"),
    GatewayDifference("malformed HTTP", "requests nginx refuses before routing (400/414/494/"
                      "501/505 problems, nginx's wording); the service answers its own 400 "
                      "problem: not compared"),
    GatewayDifference("framing headers", "Server, Date, Connection, Keep-Alive, "
                      "Transfer-Encoding and Content-Length (nginx may re-chunk): not compared"),
    GatewayDifference("X-Real-IP / X-Forwarded-*", "set by the gateway from the peer address "
                      "(the login throttle keys clients on X-Real-IP): request-side only"),
    GatewayDifference("login throttle", "a failed login counts towards its account's "
                      "throttle, so the replay of a 401 login may already be the 429: a direct "
                      "429 is not compared"),
    GatewayDifference("state", "an unsafe request that succeeded changed the state, so its "
                      "replay is a different request (a second user, an idempotent replay): "
                      "2xx answers to POST/PATCH/PUT/DELETE and 409s are not compared"),
)

SKIPPED_GATEWAY_STATUSES = frozenset({413, 429})
IGNORED_HEADERS = frozenset({"x-request-id", "server", "date", "connection", "keep-alive",
                             "transfer-encoding", "content-length"})
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


def comparable(method: str, path: str, gateway_status: int) -> bool:
    """Whether a gateway answer must match the service's (see DOCUMENTED_DIFFERENCES)."""
    if gateway_status in SKIPPED_GATEWAY_STATUSES or "/internal" in path:
        return False
    if method.upper() in SAFE_METHODS:
        return True
    return gateway_status >= 400 and gateway_status != 409


def _body(content: bytes, content_type: str) -> Any:
    if "json" in content_type:
        try:
            return httpx.Response(200, content=content).json()
        except ValueError:
            return content
    return content


def differences(gateway: httpx.Response | Any, direct: httpx.Response) -> list[str]:
    """What differs between the two answers beyond the documented differences."""
    found: list[str] = []
    if direct.status_code == 429:
        return found
    if int(gateway.status_code) != direct.status_code:
        found.append(f"status {gateway.status_code} via gateway, {direct.status_code} direct")
    g_type = str(gateway.headers.get("content-type", ""))
    d_type = direct.headers.get("content-type", "")
    if g_type != d_type:
        found.append(f"content-type {g_type!r} via gateway, {d_type!r} direct")
    elif _body(gateway.content, g_type) != _body(direct.content, d_type):
        found.append(f"bodies differ: {gateway.content[:200]!r} vs {direct.content[:200]!r}")
    return found


def resend_direct(method: str, url: str, headers: dict[str, str], body: bytes | None,
                  gateway_base: str, direct_base: str) -> httpx.Response:
    """The same request to the service's own port (same method, path, query, headers, body)."""
    assert url.startswith(gateway_base), (url, gateway_base)
    target = direct_base + url[len(gateway_base):]
    kept = {k: v for k, v in headers.items() if k.lower() not in {"host", "content-length"}}
    return httpx.request(method, target, headers=kept, content=body, timeout=15.0)
