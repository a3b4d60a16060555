"""Input types with one canonical form per value.

Pydantic's lax mode accepts `false` or `"5"` for an integer, which the fuzzer rightly calls
accepting invalid input. An integer has exactly one accepted spelling (issue 11: `/products/1.0`,
`/products/+1` and `/products/%D9%A1` all used to name product 1):

- in a JSON body, a JSON number with no fractional part, read as that integer: `1` and
  `1.0` are the same value in the documents' dialect (OpenAPI 3.1 = JSON Schema 2020-12, where
  `1.0` *is* an integer, and Schemathesis sends it as a valid integer); `true`, `"1"` and
  `1.5` are refused. The value is normalised at once (stored and answered as `1`), and every
  integer field's schema says so in its `description` (`INTEGER_RULE`). Refusing `1.0` would
  make the platform reject what its own document declares valid; only a document dialect
  that tells `1.0` from `1` (draft 4 / OpenAPI 3.0) could make that rule agree with it;
- in a path segment or query value, ASCII decimal digits without sign, leading zeros or
  fraction (`-` allowed for negative numbers, which the bounds then reject): no `+1`, `01`,
  `1.0`, ` 1` or non-ASCII digits. Anything else is a 422 (a path segment too: the resource
  is not "not found", the request is malformed).

Free text must not contain NUL (PostgreSQL text cannot hold it), so the rule is declared in
the schema as a pattern.
"""

from __future__ import annotations

import math
import re
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field

MAX_ID = 2**53 - 1
"""Largest id accepted: exact as a JSON number everywhere (IEEE double), fits bigint."""
NO_NUL_PATTERN = r"^[^\x00]*$"
_INT_TEXT = re.compile(r"^(0|-?[1-9][0-9]*)$")
INTEGER_RULE = "A JSON integer; 1.0 is the same integer as 1 (JSON Schema 2020-12), stored as 1."
INTEGER_TEXT_RULE = "Decimal ASCII digits, no sign, leading zero or fraction (7, not +7, 07, 7.0)."


def _json_integer(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError("must be an integer, not a boolean")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    raise ValueError("must be an integer (no fraction, not a string)")


def _text_integer(value: Any) -> Any:
    """Query and path values arrive as text; accept the canonical decimal form only."""
    if isinstance(value, str):
        # fullmatch, and `[0-9]`, not `\d`: `$` would let a trailing newline through and `\d`
        # matches every Unicode digit.
        if not _INT_TEXT.fullmatch(value):
            raise ValueError("must be a decimal integer in canonical form (e.g. 7)")
        return int(value)
    return _json_integer(value)


def _no_surrogates(value: str) -> str:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError("must be valid UTF-8 text") from exc
    return value


def json_int(ge: int | None = None, le: int | None = None) -> Any:
    """Integer in a JSON body, bounds declared in the schema as minimum/maximum."""
    return Annotated[int, Field(ge=ge, le=le, description=INTEGER_RULE),
                     BeforeValidator(_json_integer)]


def text_int(ge: int | None = None, le: int | None = None) -> Any:
    """Integer in a query string or path segment, bounds declared as minimum/maximum."""
    return Annotated[int, Field(ge=ge, le=le, description=INTEGER_TEXT_RULE),
                     BeforeValidator(_text_integer)]


def text(min_length: int = 0, max_length: int = 1000, pattern: str = NO_NUL_PATTERN) -> Any:
    """A NUL-free string field of bounded length, as a type to use in models."""
    return Annotated[
        str,
        Field(min_length=min_length, max_length=max_length, pattern=pattern),
        AfterValidator(_no_surrogates),
    ]


MONEY_PATTERN = r"^(0|[1-9][0-9]{0,7})\.[0-9]{2}$"
Money = Annotated[str, Field(pattern=MONEY_PATTERN, examples=["19.99"])]
"""Money as a decimal string with two places, like the API says (a price: numeric(10,2))."""

AMOUNT_PATTERN = r"^(0|[1-9][0-9]{0,15})\.[0-9]{2}$"
Amount = Annotated[str, Field(pattern=AMOUNT_PATTERN, examples=["59.97"])]
"""A computed sum of money (order total, payment amount: numeric(18,2)). Prices times
quantities outgrow `Money` (up to 50 lines x 100 x 99999999.99), so sums get 16 digits."""
