"""Error answers of a svckit app: problem+json for every failure, 400 vs 422, Allow on 405."""

from __future__ import annotations

import asyncio
from typing import Annotated

import httpx
from fastapi import FastAPI, Header
from pydantic import BaseModel
from svckit.middleware import ObservabilityMiddleware
from svckit.problems import PROBLEM_MEDIA_TYPE, Problem, install_problem_handlers, problem_responses
from svckit.types import json_int


class Thing(BaseModel):
    n: json_int(1, 10)


def make_app() -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)
    app.add_middleware(ObservabilityMiddleware)

    @app.post("/things", responses=problem_responses(400, 409, 422))
    async def create(thing: Thing, key: Annotated[str, Header(alias="Idempotency-Key")]) -> dict:
        if thing.n == 9:
            raise Problem(409, "nine is taken")
        return {"n": thing.n}

    @app.get("/things")
    async def listing() -> dict:
        return {}

    @app.get("/boom")
    async def boom() -> dict:
        raise RuntimeError("secret internals")

    return app


def call(method: str, path: str, **kwargs: object) -> httpx.Response:
    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=make_app())
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            return await client.request(method, path, **kwargs)  # type: ignore[arg-type]

    return asyncio.run(go())


KEY = {"Idempotency-Key": "k1"}


def assert_problem(response: httpx.Response, status: int) -> dict:
    assert response.status_code == status
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
    body = response.json()
    assert body["status"] == status and body["title"] and body["type"] and body["detail"]
    return body


def test_malformed_json_is_400() -> None:
    response = call("POST", "/things", content=b'{"n": 1',
                    headers={**KEY, "content-type": "application/json"})
    assert_problem(response, 400)


def test_schema_violation_is_422_with_locations() -> None:
    body = assert_problem(call("POST", "/things", json={"n": False}, headers=KEY), 422)
    assert body["errors"] == [
        {"loc": ["body", "n"], "msg": "Value error, must be an integer, not a boolean"}]


def test_missing_idempotency_key_is_400() -> None:
    assert_problem(call("POST", "/things", json={"n": 1}), 400)


def test_application_problem_keeps_its_status() -> None:
    assert_problem(call("POST", "/things", json={"n": 9}, headers=KEY), 409)


def test_405_lists_every_method_of_the_path() -> None:
    """HEAD too: it is served wherever GET is (svckit/head.py)."""
    response = call("DELETE", "/things")
    assert_problem(response, 405)
    assert response.headers["allow"] == "GET, HEAD, POST"


def test_unhandled_error_is_a_problem_without_internals_and_keeps_request_id() -> None:
    response = call("GET", "/boom", headers={"X-Request-ID": "req-123"})
    assert_problem(response, 500)
    assert "secret internals" not in response.text and "Traceback" not in response.text
    assert response.headers["x-request-id"] == "req-123"


def test_request_id_is_generated_when_missing_or_unsafe() -> None:
    response = call("GET", "/things", headers={"X-Request-ID": "bad id\twith tab"})
    assert response.status_code == 200
    assert response.headers["x-request-id"] != "bad id\twith tab"
    assert len(response.headers["x-request-id"]) == 32
