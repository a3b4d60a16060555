"""Schemathesis hooks for fuzzing under faults: the catalog mapping plus one custom check.

While a dependency edge is slowed, reset or down, a service may answer 503 or 504 — declared
problem documents — but never a 500, another 5xx, or a 503/504 that is not problem+json.
The built-in `not_a_server_error` is excluded in those runs and this check replaces it
(its name: `declared_unavailability_only`). Loaded with
`SCHEMATHESIS_HOOKS=chaos.fuzz.hooks_faults`.
"""

from __future__ import annotations

from typing import Any

import schemathesis

from chaos.fuzz.hooks_catalog import map_body  # noqa: F401 - registers the catalog hook

ALLOWED_UNAVAILABLE = frozenset({503, 504})
PROBLEM_JSON = "application/problem+json"


@schemathesis.check
def declared_unavailability_only(ctx: Any, response: Any, case: Any) -> bool | None:
    status = int(response.status_code)
    if status < 500:
        return None
    if status not in ALLOWED_UNAVAILABLE:
        raise AssertionError(f"server error {status} under a fault (only 503/504 are declared)")
    content_type = response.headers.get("content-type", [""])
    value = content_type[0] if isinstance(content_type, list) else str(content_type)
    if not value.startswith(PROBLEM_JSON):
        raise AssertionError(f"{status} under a fault is not a problem document: {value!r}")
    return None
