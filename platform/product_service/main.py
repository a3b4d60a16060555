"""product-service app: `uvicorn product_service.main:app`."""

from __future__ import annotations

from fastapi import FastAPI
from svckit.app import create_service_app
from svckit.settings import load_settings

from product_service.api import router
from product_service.events import consumers


def create_app() -> FastAPI:
    settings = load_settings("product")
    return create_service_app(
        settings=settings,
        package="product_service",
        title="Crashcart product-service",
        description="Catalog and inventory; reserves, commits and releases stock in the saga.",
        routers=[router],
        consumers=lambda app, pool: consumers(pool, settings),
    )


app = create_app()
