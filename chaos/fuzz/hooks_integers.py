"""Schemathesis hook: generated JSON bodies spell whole numbers as integers (`2`, not `2.0`).

The platform accepts one spelling per integer: a JSON integer literal; `2.0` in an integer
field is a 422 (svckit/types.py, issue 11: "one canonical form"). The documents are OpenAPI
3.1, whose JSON Schema 2020-12 calls `2.0` an integer too and has no keyword to say
otherwise, so Schemathesis (4.32, `whole_floats` in its JSON Schema strategy, draft >= 6)
sends `2.0` as *valid* data and `positive_data_acceptance` would report the documented rule
as a failure. This hook turns each whole float of a generated body back into the integer it
denotes: the same value under the document's own dialect (validity unchanged, negative cases
stay negative), spelled the way the API's descriptions require. Fractions (`1.5`), strings and
booleans are left alone, so refusing them is still fuzzed; refusing `1.0` is asserted by
suites/security/test_http_semantics.py. Registered by every hooks module of chaos/fuzz
(hooks_catalog imports it) and loaded alone with `SCHEMATHESIS_HOOKS=chaos.fuzz.hooks_integers`.
"""

from __future__ import annotations

import math
from typing import Any

import schemathesis

#: Beyond 2**53 a float does not name one integer exactly; such values stay as generated.
EXACT = 2**53


def integer_spelling(value: Any) -> Any:
    """`value` with every whole float (nested in lists and objects) spelled as an int."""
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer() and abs(value) <= EXACT:
            return int(value)
        return value
    if isinstance(value, list):
        return [integer_spelling(item) for item in value]
    if isinstance(value, dict):
        return {key: integer_spelling(item) for key, item in value.items()}
    return value


@schemathesis.hook
def map_body(ctx: Any, body: Any) -> Any:
    return integer_spelling(body)
