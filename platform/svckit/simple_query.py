"""Several statements in one round trip, through PostgreSQL's simple query protocol.

asyncpg sends a statement with parameters on the extended protocol: one statement per round
trip. A simple query may carry several (`BEGIN; INSERT ...`), which saves a round trip where
a transaction's first or last statement is fixed (the saga consumers' `BEGIN` and inbox row),
but it takes no parameters: its values are quoted here as literals. Nothing from outside is
ever placed in such a statement except through `quote_literal`.
"""

from __future__ import annotations


def quote_literal(text: str) -> str:
    """`text` as a string literal, whatever `standard_conforming_strings` says: the escape
    form `E'...'` with backslashes and quotes doubled (PostgreSQL's own `quote_literal`).
    A NUL character cannot be sent (it would end the query text): ValueError."""
    if "\x00" in text:
        raise ValueError("a NUL character cannot be part of a PostgreSQL string")
    return "E'" + text.replace("\\", "\\\\").replace("'", "''") + "'"
