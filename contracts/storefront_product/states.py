"""product-service provider states for the storefront -> product-service pair."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from contracts.order_product.states import STATES as PRICING_STATES
from contracts.order_product.states import product_exists
from contracts.statekit import logged_in


async def catalog_has_products(app: FastAPI, params: dict[str, Any]) -> None:
    for offset in range(int(params.get("count", 2))):
        await product_exists(app, {"id": 4301 + offset, "price": "9.50", "stock": 10})


async def product_named(app: FastAPI, params: dict[str, Any]) -> None:
    await product_exists(app, {"id": int(params.get("id", 4310)), "price": "9.50", "stock": 10,
                               "name": str(params["name"])})


async def admin_logged_in(app: FastAPI, params: dict[str, Any]) -> dict[str, Any]:
    return await logged_in(app, int(params.get("id", 7900)), "admin")


async def sku_free(app: FastAPI, params: dict[str, Any]) -> None:
    await app.state.pool.execute(
        "DELETE FROM products WHERE sku = $1 AND NOT EXISTS (SELECT 1 FROM reservation_items r"
        " WHERE r.product_id = products.id)", str(params["sku"]))


STATES = {
    **PRICING_STATES,
    "the catalog has at least {count} products": catalog_has_products,
    "the catalog has a product named {name}": product_named,
    "an admin is logged in": admin_logged_in,
    "no product has sku {sku}": sku_free,
}
