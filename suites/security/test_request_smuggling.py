"""Request smuggling basics through the gateway, on raw sockets: a request whose length is
ambiguous is refused with 400 (problem+json) and the connection closed, so no second request
hides in its body; a clean request on the same connection pool still works afterwards.

nginx normalises what it forwards (HTTP/1.1 with its own Content-Length or chunking), so
the upstream never sees the client's framing; these tests pin that down.
"""

from __future__ import annotations

import httpx
import pytest

from suites.helpers.http import PROBLEM_JSON
from suites.security.wire import count_answers, parse_first_answer, send_raw

pytestmark = [pytest.mark.platform]

SMUGGLED = b"GET /api/v1/users/me HTTP/1.1\r\nHost: crashcart\r\n\r\n"
AMBIGUOUS = {
    "CL.TE": (b"POST /api/v1/users HTTP/1.1\r\nHost: crashcart\r\nContent-Length: 6\r\n"
              b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + SMUGGLED),
    "TE.CL": (b"POST /api/v1/users HTTP/1.1\r\nHost: crashcart\r\nTransfer-Encoding: chunked\r\n"
              b"Content-Length: 4\r\n\r\n5c\r\n" + SMUGGLED + b"\r\n0\r\n\r\n"),
    "duplicate Content-Length": (b"POST /api/v1/users HTTP/1.1\r\nHost: crashcart\r\n"
                                 b"Content-Length: 0\r\nContent-Length: 49\r\n\r\n" + SMUGGLED),
    "Content-Length with a sign": (b"POST /api/v1/users HTTP/1.1\r\nHost: crashcart\r\n"
                                   b"Content-Length: +0\r\n\r\n" + SMUGGLED),
    "obfuscated Transfer-Encoding": (b"POST /api/v1/users HTTP/1.1\r\nHost: crashcart\r\n"
                                     b"Transfer-Encoding: xchunked\r\n\r\n0\r\n\r\n" + SMUGGLED),
    "Transfer-Encoding on HTTP/1.0": (b"POST /api/v1/users HTTP/1.0\r\nHost: crashcart\r\n"
                                      b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + SMUGGLED),
}
REFUSED_WITH = {"obfuscated Transfer-Encoding": 501}


@pytest.mark.parametrize("case", AMBIGUOUS, ids=str)
def test_ambiguous_framing_is_refused_and_nothing_is_smuggled(gateway_url: str,
                                                              case: str) -> None:
    raw = send_raw(gateway_url, AMBIGUOUS[case], timeout_s=5.0)
    answer = parse_first_answer(raw)
    assert answer.status == REFUSED_WITH.get(case, 400), raw[:400]
    assert answer.content_type.startswith(PROBLEM_JSON)
    assert count_answers(raw) == 1, f"a second answer came back (smuggled request):\n{raw!r}"
    assert answer.headers.get("connection", "").lower() == "close"
    with httpx.Client(base_url=gateway_url, timeout=10.0) as client:
        for _ in range(3):
            assert client.get("/api/v1/products", params={"limit": 1}).status_code == 200


def test_a_pipelined_second_request_is_answered_as_its_own_request(gateway_url: str) -> None:
    """Control: with unambiguous framing two pipelined requests get two answers."""
    first = (b"GET /api/v1/products?limit=1 HTTP/1.1\r\nHost: crashcart\r\n\r\n")
    second = b"GET /api/v1/users/me HTTP/1.1\r\nHost: crashcart\r\nConnection: close\r\n\r\n"
    raw = send_raw(gateway_url, first + second, timeout_s=5.0)
    assert count_answers(raw) == 2, raw[:600]
    assert b"HTTP/1.1 401" in raw
