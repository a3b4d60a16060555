"""Schemathesis hooks: order lines name products that exist (`CRASHCART_FUZZ_PRODUCT_IDS`).

A generated `product_id` is a random integer up to 2**53, so nearly every generated order is a
404 "unknown product" and the stateful phase never gets an order to read back — nor the
object-level authorization check an order of alice's to replay as bob. Mapping each
generated id onto the catalog (id modulo its size) keeps the generator's choice but makes it
name a real product. Loaded with `SCHEMATHESIS_HOOKS=chaos.fuzz.hooks_catalog` (which also
registers hooks_integers: whole numbers spelled as integers).
"""

from __future__ import annotations

import os
from typing import Any

import schemathesis

# Registered first, so whole floats are integers before ids are mapped onto the catalog.
from chaos.fuzz.hooks_integers import map_body as _integer_spelling  # noqa: F401

ORDERS_PATH = "/api/v1/orders"
#: The schema's bounds of `product_id` (svckit.types.MAX_ID): a value outside them is a
#: deliberately invalid (negative-mode) case and must reach the service unchanged.
MIN_ID, MAX_ID = 1, 2**53 - 1


def _catalog() -> list[int]:
    raw = os.environ.get("CRASHCART_FUZZ_PRODUCT_IDS", "")
    return [int(part) for part in raw.split(",") if part.strip()]


@schemathesis.hook
def map_body(ctx: Any, body: Any) -> Any:
    operation = getattr(ctx, "operation", None)
    catalog = _catalog()
    if not catalog or operation is None or operation.path != ORDERS_PATH:
        return body
    if not isinstance(body, dict) or not isinstance(body.get("items"), list):
        return body
    for line in body["items"]:
        product_id = line.get("product_id") if isinstance(line, dict) else None
        if (isinstance(product_id, int) and not isinstance(product_id, bool)
                and MIN_ID <= product_id <= MAX_ID):
            line["product_id"] = catalog[product_id % len(catalog)]
    return body
