"""Decode request bodies the way Go's ``encoding/json`` does.

Why: Toxiproxy clients depend on Go decoder quirks that Python's ``json`` does not
have: object keys match struct fields case-insensitively, ``null`` leaves a field
untouched, only the first JSON value of a body is read, numbers written with a
fraction or exponent cannot go into integer fields, and errors have Go's wording
(``EOF``, ``json: cannot unmarshal string into Go struct field ...``), and a repeated
key of a field decoded *into an existing value* (a toxic's ``attributes``) merges.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass
from typing import Any

_WHITESPACE = " \t\n\r"
_INT64 = (-(2**63), 2**63 - 1)
_INT = _INT64  # Go int is 64-bit on the platforms Toxiproxy ships for


class GoDecodeError(Exception):
    """A decoding failure; ``str(err)`` is the Go error text."""


class _FloatLiteral(float):
    """A JSON number with a fraction/exponent; keeps its literal text for messages."""

    text: str


def _parse_float(text: str) -> float:
    value = _FloatLiteral(float(text))
    value.text = text
    return value


def _reject_constant(name: str) -> Any:
    raise ValueError(name)


_DECODER = json.JSONDecoder(
    parse_float=_parse_float,
    parse_constant=_reject_constant,
    object_pairs_hook=lambda pairs: GoObject(pairs),  # keeps duplicate keys and order, as Go sees them
)


class GoObject(list):
    """A decoded JSON object: the ``(key, value)`` pairs in body order."""


def first_value(body: bytes) -> Any:
    """Return the first JSON value in ``body`` (Go ``Decoder.Decode``); trailing data is ignored.

    Objects come back as lists of ``(key, value)`` pairs.
    """
    text = body.decode("utf-8", errors="replace")
    start = 0
    while start < len(text) and text[start] in _WHITESPACE:
        start += 1
    if start == len(text):
        raise GoDecodeError("EOF")
    try:
        value, _ = _DECODER.raw_decode(text, start)
    except ValueError as exc:
        position = getattr(exc, "pos", None)
        if position is None or position >= len(text.rstrip(_WHITESPACE)):
            raise GoDecodeError("unexpected EOF") from None
        raise GoDecodeError(
            f"invalid character {_go_char(text[position])} looking for beginning of value"
        ) from None
    return value


def _go_char(char: str) -> str:
    if char == "'":
        return "'\\''"
    if char == '"':
        return "'\"'"
    return f"'{char}'"


def kind_of(value: Any) -> str:
    """Go's name for a JSON value's kind, as used in UnmarshalTypeError."""
    if isinstance(value, GoObject):
        return "object"
    if isinstance(value, list):
        return "array"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, str):
        return "string"
    if isinstance(value, (int, float)):
        return "number"
    return "null"


@dataclass(frozen=True, slots=True)
class Field:
    """One struct field: JSON name and Go type (``string``, ``bool``, ``int``, ``int64``, ``float32``, ``raw``, ``into``).

    ``into`` is an ``interface{}`` field pre-set to a pointer (Toxiproxy's ``attributes``):
    Go decodes every occurrence of the key into the same struct, so repeated keys merge,
    and a ``null`` occurrence sets the interface to nil, so later occurrences change
    nothing. Its decoded value is the list of raw occurrences in body order (``None`` for
    a null one).
    """

    name: str
    go_type: str


@dataclass(frozen=True, slots=True)
class Struct:
    """A Go struct the body is decoded into (the name appears in error messages)."""

    go_name: str
    fields: tuple[Field, ...]

    def decode(self, value: Any, *, as_value: bool = False) -> dict[str, Any]:
        """Decode ``value`` (from :func:`first_value`) into ``{field: value}`` for present, non-null keys."""
        if value is None:
            return {}
        if not is_object(value):
            raise GoDecodeError(
                f"json: cannot unmarshal {kind_of(value)} into Go value of type {self.go_name}"
            )
        result: dict[str, Any] = {}
        for key, item in value:
            field = self._match(key)
            if field is None:
                continue
            if field.go_type == "into":
                result.setdefault(field.name, []).append(item)
                continue
            if item is None:
                continue
            result[field.name] = _convert(item, field, self.go_name.rsplit(".", 1)[-1])
        return result

    def _match(self, key: str) -> Field | None:
        for field in self.fields:
            if field.name == key:
                return field
        folded = key.casefold()
        for field in self.fields:
            if field.name.casefold() == folded:
                return field
        return None


def is_object(value: Any) -> bool:
    return isinstance(value, GoObject)


def _convert(item: Any, field: Field, struct_name: str) -> Any:
    where = f"Go struct field {struct_name}.{field.name} of type {field.go_type}"
    if field.go_type == "raw":
        return item
    if field.go_type == "string":
        if isinstance(item, str):
            return item
    elif field.go_type == "bool":
        if isinstance(item, bool):
            return item
    elif field.go_type in ("int", "int64"):
        if isinstance(item, int) and not isinstance(item, bool):
            low, high = _INT64
            if low <= item <= high:
                return item
            raise GoDecodeError(f"json: cannot unmarshal number {item} into {where}")
        if isinstance(item, _FloatLiteral):
            raise GoDecodeError(f"json: cannot unmarshal number {item.text} into {where}")
    elif field.go_type == "float32":
        if isinstance(item, (int, float)) and not isinstance(item, bool):
            if abs(float(item)) > 3.4028234663852886e38:
                raise GoDecodeError(f"json: cannot unmarshal number {item} into {where}")
            return to_float32(float(item))
    raise GoDecodeError(f"json: cannot unmarshal {kind_of(item)} into {where}")


def to_float32(value: float) -> float:
    """Round to the nearest float32, as storing into a Go ``float32`` does."""
    return struct.unpack("f", struct.pack("f", value))[0]


def float32_text(value: float) -> str:
    """Shortest decimal that round-trips as float32 (Go's JSON rendering of float32)."""
    if value == int(value) and abs(value) < 1e21:
        return str(int(value))
    for digits in range(1, 10):
        text = f"{value:.{digits}g}"
        if to_float32(float(text)) == value:
            if "e" in text:
                mantissa, exponent = text.split("e")
                exp = int(exponent)
                if -7 < exp < 21:
                    return repr(float(text))
                return f"{mantissa}e{'-' if exp < 0 else '+'}{abs(exp):02d}"
            return text
    return repr(value)


def marshal(value: Any) -> bytes:
    """Go ``json.Marshal``: compact, ``<``/``>``/``&`` escaped, float32 via ``go_text()``."""
    return _encode(value).encode("utf-8")


def _encode(value: Any) -> str:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        go_text = getattr(value, "go_text", None)
        return go_text() if go_text else _float64_text(value)
    if isinstance(value, dict):
        return "{" + ",".join(f"{_string(str(k))}:{_encode(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(_encode(v) for v in value) + "]"
    raise TypeError(f"cannot marshal {type(value).__name__}")


def _string(text: str) -> str:
    encoded = json.dumps(text, ensure_ascii=False)
    for raw, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"),
                         ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        encoded = encoded.replace(raw, escaped)
    return encoded


def _float64_text(value: float) -> str:
    if value == int(value) and abs(value) < 1e21:
        return str(int(value))
    return repr(value)
