"""Input types with JSON-Schema-exact validation.

Pydantic's lax mode accepts `false` or `"5"` for an integer, which the fuzzer rightly calls
accepting invalid input; strict mode rejects `5.0`, which JSON Schema calls a valid integer.
These validators implement JSON Schema's rule: a number with no fractional part is an integer,
booleans and strings are not. Free text must not contain NUL (PostgreSQL text cannot hold it),
so the rule is declared in the schema as a pattern.
"""

from __future__ import annotations

import math
import re
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field

MAX_ID = 2**53 - 1
"""Largest id accepted: exact as a JSON number everywhere (IEEE double), fits bigint."""
NO_NUL_PATTERN = r"^[^\x00]*$"
_INT_TEXT = re.compile(r"^[+-]?\d+(\.0*)?$")


def _json_integer(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError("must be an integer, not a boolean")
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer():
            return int(value)
        raise ValueError("must be an integer")
    raise ValueError("must be an integer")


def _text_integer(value: Any) -> Any:
    """Query and path values arrive as text; accept `42` and `42.0`, nothing else."""
    if isinstance(value, str):
        if not _INT_TEXT.match(value.strip()) or value != value.strip():
            raise ValueError("must be an integer")
        return int(value.split(".")[0])
    return _json_integer(value)


def _no_surrogates(value: str) -> str:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError("must be valid UTF-8 text") from exc
    return value


def json_int(ge: int | None = None, le: int | None = None) -> Any:
    """Integer in a JSON body, bounds declared in the schema as minimum/maximum."""
    return Annotated[int, Field(ge=ge, le=le), BeforeValidator(_json_integer)]


def text_int(ge: int | None = None, le: int | None = None) -> Any:
    """Integer in a query string or path segment, bounds declared as minimum/maximum."""
    return Annotated[int, Field(ge=ge, le=le), BeforeValidator(_text_integer)]


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
