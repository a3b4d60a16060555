"""Every error the gateway produces itself is a problem document (issue 11), and so is the
answer of a service to a request its HTTP parser refuses.

Before the fix nginx answered these with its HTML pages (400, 414, 501, 505, and 494 for an
over-long header line) and uvicorn with `text/plain` "Invalid HTTP request received.";
`CONNECT` got a 405 saying "TRACE is not allowed here".
"""

from __future__ import annotations

import pytest

from suites.helpers.http import PROBLEM_JSON
from suites.security.wire import RawAnswer, request

pytestmark = [pytest.mark.platform]

CLOSE = b"Host: crashcart\r\nConnection: close\r\n\r\n"

GATEWAY_ERRORS = {
    "bad request line": (b"GARBAGE\r\n\r\n", 400),
    "header line too large": (b"GET /api/v1/products HTTP/1.1\r\nX-Big: " + b"a" * 20_000
                              + b"\r\n" + CLOSE, 400),
    "cookie too large": (b"GET /api/v1/products HTTP/1.1\r\nCookie: c=" + b"a" * 20_000
                         + b"\r\n" + CLOSE, 400),
    "uri too long": (b"GET /api/v1/products?q=" + b"a" * 20_000 + b" HTTP/1.1\r\n" + CLOSE, 414),
    "http version 2.5": (b"GET /api/v1/products HTTP/2.5\r\n" + CLOSE, 505),
    "http version 3.0": (b"GET /api/v1/products HTTP/3.0\r\n" + CLOSE, 505),
    "unknown transfer coding": (b"POST /api/v1/users HTTP/1.1\r\nTransfer-Encoding: gzip\r\n"
                                + CLOSE, 501),
    "lower-case method": (b"get /api/v1/products HTTP/1.1\r\n" + CLOSE, 400),
    "connect authority form": (b"CONNECT example.com:443 HTTP/1.1\r\n" + CLOSE, 400),
    "no host header": (b"GET /api/v1/products HTTP/1.1\r\nConnection: close\r\n\r\n", 400),
    "bad percent escape": (b"GET /api/v1/products/%zz HTTP/1.1\r\n" + CLOSE, 400),
    "unrouted path": (b"GET /nowhere HTTP/1.1\r\n" + CLOSE, 404),
    "internal path": (b"GET /api/v1/users/internal/x HTTP/1.1\r\n" + CLOSE, 403),
}

# Requests nginx forwards but the service's HTTP parser refuses: uvicorn's own answer.
SERVICE_PARSER_ERRORS = {
    "unknown method": b"FOO /api/v1/products HTTP/1.1\r\n" + CLOSE,
    "control character in a header": b"GET /api/v1/products HTTP/1.1\r\nX-A: a\x01b\r\n" + CLOSE,
    "delete character in a header": b"GET /api/v1/products HTTP/1.1\r\nX-A: a\x7fb\r\n" + CLOSE,
    "raw non-ascii path": b"GET /api/v1/products/\xd9\xa1 HTTP/1.1\r\n" + CLOSE,
}


def assert_problem_answer(answer: RawAnswer, status: int) -> dict[str, object]:
    assert answer.status == status, answer.raw[:600]
    assert answer.content_type.startswith(PROBLEM_JSON), answer.raw[:600]
    body = answer.json()
    assert body["status"] == status
    assert {"type", "title", "status", "detail"} <= set(body), body
    assert b"<html" not in answer.body.lower() and b"nginx" not in answer.body.lower()
    return dict(body)


@pytest.mark.parametrize("case", GATEWAY_ERRORS, ids=str)
def test_the_gateways_own_errors_are_problem_documents(gateway_url: str, case: str) -> None:
    data, status = GATEWAY_ERRORS[case]
    answer = request(gateway_url, data)
    assert_problem_answer(answer, status)
    assert answer.headers.get("x-request-id"), "gateway errors carry the request id too"


@pytest.mark.parametrize("case", SERVICE_PARSER_ERRORS, ids=str)
def test_requests_the_service_cannot_parse_get_a_problem_document(
        gateway_url: str, service_urls: dict[str, str], case: str) -> None:
    for url in (gateway_url, service_urls["product"]):
        assert_problem_answer(request(url, SERVICE_PARSER_ERRORS[case]), 400)


@pytest.mark.parametrize("method", ["CONNECT", "TRACE"])
def test_a_refused_method_is_named_in_the_405(gateway_url: str, method: str) -> None:
    answer = request(gateway_url, method.encode() + b" /api/v1/products HTTP/1.1\r\n" + CLOSE)
    body = assert_problem_answer(answer, 405)
    assert body["detail"] == f"{method} is not allowed here"
    assert {m.strip() for m in answer.headers["allow"].split(",")} == {"GET", "HEAD", "POST"}
