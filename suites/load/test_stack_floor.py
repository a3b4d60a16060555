"""The stack-floor benchmark measures what it says: each server answers through a real
uvicorn process (always stopped afterwards), and the third one carries the services' own
HTTP stack, not a copy of it."""
from __future__ import annotations

import psutil
from svckit.deadline import RequestDeadlineMiddleware
from svckit.middleware import ObservabilityMiddleware

from load.benchmarks import stack_floor


def test_the_svckit_server_has_the_services_middlewares() -> None:
    app = stack_floor.svckit_app  # built on access, as uvicorn imports it
    kinds = {middleware.cls for middleware in app.user_middleware}
    assert {ObservabilityMiddleware, RequestDeadlineMiddleware} <= kinds
    assert not stack_floor.fastapi_app.user_middleware


def test_each_server_is_measured_in_its_own_process_and_stopped() -> None:
    before = {p.pid for p in psutil.Process().children(recursive=True)}
    for app_name in stack_floor.SERVERS.values():
        seconds = stack_floor.cpu_per_request(app_name, requests=400, threads=2)
        assert 0 < seconds < 0.5, f"{app_name}: {seconds} s of CPU per request"
    assert {p.pid for p in psutil.Process().children(recursive=True)} <= before
