"""payment-service app: `uvicorn payment_service.main:app`."""

from __future__ import annotations

from fastapi import FastAPI
from svckit.app import create_service_app
from svckit.settings import load_settings

from payment_service.api import router
from payment_service.events import consumers


def create_app() -> FastAPI:
    settings = load_settings("payment")
    return create_service_app(
        settings=settings,
        package="payment_service",
        title="Crashcart payment-service",
        description="Simulated card processor (tok_visa approves, tok_chargeDeclined declines).",
        routers=[router],
        consumers=lambda app, pool: consumers(pool, settings),
    )


app = create_app()
