"""Input types with one canonical form per value.

Pydantic's lax mode accepts `false` or `"5"` for an integer, which the fuzzer rightly calls
accepting invalid input. An integer has exactly one accepted spelling (issue 11: `/products/1.0`,
`/products/+1` and `/products/%D9%A1` all used to name product 1):

- in a JSON body, a JSON integer literal: `1`, never `1.0`, `true`, `"1"` or `1.5` (422).
  The documents' dialect (OpenAPI 3.1 = JSON Schema 2020-12) calls `1.0` an integer too and
  cannot say otherwise, so every integer field's schema states the rule in its `description`
  (`INTEGER_RULE`), and the harness's fuzzer spells whole numbers as integers
  (chaos/fuzz/hooks_integers.py). One spelling per value, as for ids in paths: two spellings
  of one request would otherwise hash and log differently (idempotency keys, audit);
- in a path segment or query value, ASCII decimal digits without sign, leading zeros or
  fraction (`-` allowed for negative numbers, which the bounds then reject): no `+1`, `01`,
  `1.0`, ` 1` or non-ASCII digits. Anything else is a 422 (a path segment too: the resource
  is not "not found", the request is malformed).

Free text must not contain NUL (PostgreSQL text cannot hold it), so the rule is declared in
the schema as a pattern.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field

MAX_ID = 2**53 - 1
"""Largest id accepted: exact as a JSON number everywhere (IEEE double), fits bigint."""
NO_NUL_PATTERN = r"^[^\x00]*$"
_INT_TEXT = re.compile(r"^(0|-?[1-9][0-9]*)$")
INTEGER_RULE = "A JSON integer literal without fraction or exponent: 1, not 1.0 (refused)."
INTEGER_TEXT_RULE = "Decimal ASCII digits, no sign, leading zero or fraction (7, not +7, 07, 7.0)."


def _json_integer(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError("must be an integer, not a boolean")
    if isinstance(value, int):
        return value
    raise ValueError("must be an integer literal (no fraction or exponent, not a string)")


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
