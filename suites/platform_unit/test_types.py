"""One canonical spelling per integer: what the fuzzer calls valid is accepted, nothing more."""

from __future__ import annotations

import pytest
from pydantic import TypeAdapter, ValidationError
from svckit.types import json_int, text, text_int

BODY_INT = TypeAdapter(json_int(1, 100))
TEXT_INT = TypeAdapter(text_int(0, 10))


@pytest.mark.parametrize("value, expected", [(5, 5), (1, 1), (100, 100)],
                         ids=["int", "min", "max"])
def test_body_integer_accepts_json_integers(value: object, expected: int) -> None:
    assert BODY_INT.validate_python(value) == expected


@pytest.mark.parametrize("value", [True, False, "5", 5.5, 5.0, 1e1, 0, 101, None], ids=repr)
def test_body_integer_rejects_everything_else(value: object) -> None:
    with pytest.raises(ValidationError):
        BODY_INT.validate_python(value)


@pytest.mark.parametrize("value, expected", [("7", 7), ("10", 10), ("0", 0)])
def test_text_integer_accepts_integer_text(value: str, expected: int) -> None:
    assert TEXT_INT.validate_python(value) == expected


@pytest.mark.parametrize("value", ["true", "false", "7.5", "7.0", "+7", "07", "\u0667", "7\n", "", " 7", "1e3", "11"],
                         ids=repr)
def test_text_integer_rejects_everything_else(value: str) -> None:
    with pytest.raises(ValidationError):
        TEXT_INT.validate_python(value)


def test_schema_declares_bounds() -> None:
    schema = BODY_INT.json_schema()
    assert {k: schema[k] for k in ("type", "minimum", "maximum")} == {
        "type": "integer", "minimum": 1, "maximum": 100}
    assert "not 1.0 (refused)" in schema["description"]


def test_text_rejects_nul_and_lone_surrogates() -> None:
    adapter = TypeAdapter(text(1, 10))
    assert adapter.validate_python("ok") == "ok"
    for bad in ("a\x00b", "\ud800", ""):
        with pytest.raises(ValidationError):
            adapter.validate_python(bad)
