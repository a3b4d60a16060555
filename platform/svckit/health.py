"""Liveness, readiness (database, broker, consumers) and the metrics endpoint.

`consumers` is down while any saga consumer of the service is not consuming (its channel
closed by the broker, being re-opened), even when the connection itself is up.

Kept out of the OpenAPI document: they are operations endpoints on the service's own port,
not part of the public API the gateway serves (and fuzzes).
"""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from svckit.metrics import metrics_endpoint

router = APIRouter(include_in_schema=False)


@router.get("/health/live")
async def live(request: Request) -> JSONResponse:
    return JSONResponse({"status": "live", "service": request.app.state.settings.service_name})


async def _database_ok(request: Request) -> bool:
    pool = getattr(request.app.state, "pool", None)
    if pool is None:
        return False
    try:
        async with asyncio.timeout(2):
            async with pool.acquire() as conn:
                await conn.fetchval("SELECT 1")
        return True
    except Exception:
        return False


@router.get("/health/ready")
async def ready(request: Request) -> JSONResponse:
    broker = getattr(request.app.state, "broker", None)
    consumers = getattr(request.app.state, "consumers", [])
    broker_up = broker is not None and broker.is_ready
    checks = {
        "database": "up" if await _database_ok(request) else "down",
        "broker": "up" if broker_up else "down",
        "consumers": "up" if broker_up and all(c.is_consuming for c in consumers) else "down",
    }
    ok = all(v == "up" for v in checks.values())
    return JSONResponse(
        {"status": "ready" if ok else "not_ready",
         "service": request.app.state.settings.service_name, "checks": checks},
        status_code=200 if ok else 503,
    )


router.add_api_route("/metrics", metrics_endpoint, methods=["GET"])
