"""The app factory every service uses: lifespan (database, migrations, broker, outbox relay,
consumers), error handlers, middleware, operations endpoints and the OpenAPI post-processing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any

import asyncpg
from fastapi import APIRouter, FastAPI
from fastapi.openapi.utils import get_openapi

from svckit import contract_mode, wire_errors
from svckit.auth import declare_user_check_answers
from svckit.broker import Broker
from svckit.consumer import Consumer
from svckit.db import open_database
from svckit.deadline import RequestDeadlineMiddleware
from svckit.head import HeadAsGetMiddleware
from svckit.health import router as health_router
from svckit.logging import configure_logging
from svckit.media_type import JsonBodyMiddleware, declare_unsupported_media_type
from svckit.middleware import ObservabilityMiddleware
from svckit.migrations import migrate
from svckit.outbox import OutboxRelay
from svckit.problems import install_problem_handlers, register_problem_schemas
from svckit.settings import ServiceSettings

log = logging.getLogger("svckit.app")

Hook = Callable[[FastAPI], Awaitable[None]]
ConsumersFactory = Callable[[FastAPI, asyncpg.Pool], Sequence[Consumer]]


def install_http_stack(app: FastAPI, settings: ServiceSettings) -> None:
    """What every service request passes through besides FastAPI itself: problem+json
    error handlers and the middlewares (request id, metrics and access log outermost, then
    the request deadline, HEAD as GET, the JSON body check). Also used on its own by
    `load.benchmarks.stack_floor` to measure what this stack costs per request."""
    install_problem_handlers(app)
    app.add_middleware(JsonBodyMiddleware)
    app.add_middleware(HeadAsGetMiddleware)
    app.add_middleware(RequestDeadlineMiddleware, seconds=settings.request_deadline_s)
    app.add_middleware(ObservabilityMiddleware)


def create_service_app(
    *,
    settings: ServiceSettings,
    package: str,
    title: str,
    description: str,
    routers: Sequence[APIRouter],
    consumers: ConsumersFactory | None = None,
    on_startup: Hook | None = None,
    on_shutdown: Hook | None = None,
) -> FastAPI:
    configure_logging(settings.service_name, settings.log_level)
    wire_errors.install()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        pool = await open_database(settings)
        app.state.pool = pool
        applied = await migrate(pool, package)
        log.info("database ready", extra={"migrations_applied": applied})
        broker = Broker(settings)
        relay = OutboxRelay(pool, broker, settings)
        app.state.broker, app.state.relay = broker, relay
        app.state.consumers = list(consumers(app, pool) if consumers else ())  # readiness
        for consumer in app.state.consumers:
            consumer.after_commit = relay.hand_over
            broker.on_connect(consumer.start)
        if on_startup:
            await on_startup(app)
        broker.start()
        relay.start()
        log.info("%s-service started", settings.service_name)
        try:
            yield
        finally:
            await relay.stop()
            await broker.stop()
            if on_shutdown:
                await on_shutdown(app)
            try:
                await asyncio.wait_for(pool.close(), 5)
            except (TimeoutError, Exception):
                pool.terminate()
            log.info("%s-service stopped", settings.service_name)

    # redirect_slashes off: `/orders/` is a 404, never a redirect built from the client's Host.
    app = FastAPI(title=title, description=description, version="1.0.0", lifespan=lifespan,
                  docs_url="/docs", redoc_url=None, redirect_slashes=False)
    app.state.settings = settings
    install_http_stack(app, settings)
    for router in routers:
        app.include_router(router)
    app.include_router(health_router)
    contract_mode.install(app)  # provider-state endpoint, only with CONTRACT_TEST_MODE=1

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version,
                                 description=app.description, routes=app.routes)
            app.openapi_schema = declare_user_check_answers(
                declare_unsupported_media_type(register_problem_schemas(schema)))
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app
