"""order-service app: `uvicorn order_service.main:app`."""

from __future__ import annotations

from fastapi import FastAPI
from svckit.app import create_service_app
from svckit.http_client import ServiceClient
from svckit.settings import load_settings

from order_service.api import router
from order_service.events import consumers
from order_service.reconciler import Reconciler


async def start_order_service(app: FastAPI) -> None:
    """Dependency clients and the order reconciler (deadlines, re-driving)."""
    settings = app.state.settings
    app.state.clients = {
        "user": ServiceClient("user", settings.user_service_url, settings),
        "product": ServiceClient("product", settings.product_service_url, settings),
    }
    app.state.reconciler = Reconciler(app.state.pool, settings, app.state.relay.wake)
    app.state.reconciler.start()


async def stop_order_service(app: FastAPI) -> None:
    await app.state.reconciler.stop()
    for client in app.state.clients.values():
        await client.aclose()


def create_app() -> FastAPI:
    settings = load_settings("order")
    return create_service_app(
        settings=settings,
        package="order_service",
        title="Crashcart order-service",
        description="Orders with Idempotency-Key; the checkout saga's state.",
        routers=[router],
        consumers=lambda app, pool: consumers(pool, settings),
        on_startup=start_order_service,
        on_shutdown=stop_order_service,
    )


app = create_app()
