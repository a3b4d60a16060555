"""Assertions on RFC 9457 problem answers, the one error shape of the public API."""
from __future__ import annotations

from typing import Any

import httpx

from suites.helpers.http import PROBLEM_JSON, is_problem


def assert_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    """Assert `response` is a problem+json document with `status`; return its body."""
    assert response.status_code == status, (
        f"expected {status}, got {response.status_code}: {response.text[:500]}"
    )
    assert is_problem(response), (
        f"expected {PROBLEM_JSON}, got {response.headers.get('content-type')!r}"
    )
    body = response.json()
    for member in ("type", "title", "status", "detail"):
        assert member in body, f"problem lacks {member!r}: {body}"
    assert body["status"] == status
    assert "Traceback" not in response.text, "a stack trace leaked into an error answer"
    return body


def assert_validation_problem(response: httpx.Response) -> list[dict[str, Any]]:
    """Assert a 422 problem carrying `errors: [{loc, msg}]`; return the errors."""
    body = assert_problem(response, 422)
    errors = body.get("errors")
    assert isinstance(errors, list) and errors, f"422 without errors: {body}"
    for error in errors:
        assert isinstance(error.get("loc"), list), f"error without loc list: {error}"
        assert isinstance(error.get("msg"), str) and error["msg"], f"error without msg: {error}"
    return errors
