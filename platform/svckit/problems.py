"""RFC 9457 problem details: the one error shape of every service, and its OpenAPI declaration.

`Problem` is raised by application code; the handlers installed by `install_problem_handlers`
turn it, HTTP errors, validation errors and infrastructure loss into
`application/problem+json` so no error ever leaks a stack trace or an undeclared shape.
Malformed JSON is told apart from schema violations (400 versus 422), as the API promises.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Iterable
from http import HTTPStatus
from typing import Any

import asyncpg
import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

PROBLEM_MEDIA_TYPE = "application/problem+json"
log = logging.getLogger("svckit.problems")


class ProblemDetail(BaseModel):
    """An error answer (RFC 9457)."""

    type: str
    title: str
    status: int
    detail: str


class ValidationErrorItem(BaseModel):
    loc: list[str | int]
    msg: str


class ValidationProblem(ProblemDetail):
    """A 422 answer: the request was well-formed JSON but broke the schema."""

    errors: list[ValidationErrorItem]


class Problem(Exception):
    """Raise to answer with a problem document; also the one builder of that document."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        title: str | None = None,
        type_: str | None = None,
        headers: dict[str, str] | None = None,
        errors: list[dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.title = title or HTTPStatus(status).phrase
        self.type = type_ or problem_type(status)
        self.headers = headers or {}
        self.errors = errors

    def body(self) -> bytes:
        """The problem+json document (also used below FastAPI, by the ASGI middleware)."""
        doc: dict[str, Any] = {
            "type": self.type, "title": self.title, "status": self.status, "detail": self.detail,
        }
        if self.errors is not None:
            doc["errors"] = self.errors
        return orjson.dumps(doc)

    def response(self) -> Response:
        return Response(self.body(), status_code=self.status, media_type=PROBLEM_MEDIA_TYPE,
                        headers=self.headers)


def problem_type(status: int) -> str:
    return f"https://crashcart.dev/problems/{HTTPStatus(status).phrase.lower().replace(' ', '-')}"


_DESCRIPTIONS = {
    400: "Malformed request (body is not valid JSON, or a required header is missing/invalid)",
    401: "Missing or invalid bearer token",
    403: "Authenticated but not allowed",
    404: "Not found (or not yours)",
    409: "Conflict with the current state",
    422: "Validation error: valid JSON that breaks the schema",
    500: "Unexpected server error",
    503: "A dependency (database, broker or another service) is unavailable",
    504: "A dependency did not answer in time",
}


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` entries for the given problem statuses."""
    out: dict[int | str, dict[str, Any]] = {}
    for status in statuses:
        model = ValidationProblem if status == 422 else ProblemDetail
        entry: dict[str, Any] = {
            "description": _DESCRIPTIONS.get(status, HTTPStatus(status).phrase),
            "content": {PROBLEM_MEDIA_TYPE: {
                "schema": {"$ref": f"#/components/schemas/{model.__name__}"}}},
        }
        if status == 401:
            entry["headers"] = {
                "WWW-Authenticate": {"schema": {"type": "string"}, "description": "Bearer"}
            }
        out[status] = entry
    return out


def _loc(loc: Iterable[Any]) -> list[str | int]:
    return [part if isinstance(part, int) else str(part) for part in loc]


# Errors on these request parts answer 400 rather than 422 (API: "400 without the header").
BAD_REQUEST_HEADERS = {"idempotency-key"}


async def _on_validation(request: Request, exc: RequestValidationError) -> Response:
    errors = exc.errors()
    if any(err.get("type") == "json_invalid" for err in errors):
        return Problem(400, "Request body is not valid JSON").response()
    for err in errors:
        loc = err.get("loc", ())
        if len(loc) >= 2 and loc[0] == "header" and str(loc[1]).lower() in BAD_REQUEST_HEADERS:
            return Problem(
                400, f"Header {loc[1]} is missing or invalid: {err.get('msg')}").response()
    items = [{"loc": _loc(err.get("loc", ())), "msg": str(err.get("msg", ""))} for err in errors]
    return Problem(422, "Request validation failed", errors=items).response()


def allowed_methods(request: Request) -> list[str]:
    """Every method the OpenAPI document declares at this path, plus HEAD wherever GET is.

    Starlette's own `Allow` lists one route's methods only; the document is what clients
    (and the fuzzer) compare against. HEAD is served wherever GET is (svckit/head.py) without
    being declared, so it is listed too (RFC 9110 §10.2.1: `Allow` names what is served).
    """
    table: list[tuple[re.Pattern[str], set[str]]] | None = getattr(
        request.app.state, "allow_table", None)
    if table is None:
        table = []
        for template, operations in request.app.openapi().get("paths", {}).items():
            regex = "^" + re.sub(r"\\{[^}/]+\\}", "[^/]+", re.escape(template)) + "$"
            declared = {m.upper() for m in operations if m.lower() in _HTTP_METHODS}
            if "GET" in declared:
                declared.add("HEAD")
            table.append((re.compile(regex), declared))
        request.app.state.allow_table = table
    methods: set[str] = set()
    for pattern, declared in table:
        if pattern.match(request.url.path):
            methods |= declared
    return sorted(methods)


_HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


async def _on_http_error(request: Request, exc: StarletteHTTPException) -> Response:
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        headers["Allow"] = ", ".join(allowed_methods(request)) or headers.get("Allow", "")
        detail = f"{request.method} is not allowed here"
    elif exc.status_code == 404:
        detail = "No such resource"
    else:
        detail = str(exc.detail)
    return Problem(exc.status_code, detail, headers=headers).response()


async def _on_problem(request: Request, exc: Problem) -> Response:
    return exc.response()


DB_UNAVAILABLE = (
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    # 57xxx: admin/crash shutdown (server restarting, backend terminated), cannot connect
    # now, query cancelled (statement timeout).
    asyncpg.exceptions.OperatorInterventionError,
    asyncpg.exceptions.TooManyConnectionsError,
    # What asyncpg raises when the server dropped the connection just before a query
    # ("cannot switch to state ...; another operation is in progress").
    asyncpg.exceptions.InternalClientError,
    OSError,
    asyncio.TimeoutError,
)


def is_db_unavailable(exc: BaseException) -> bool:
    """Loss of the database (worth retrying), as opposed to a bad value (DataError)."""
    return isinstance(exc, DB_UNAVAILABLE) and not isinstance(exc, ValueError)


async def _on_db_unavailable(request: Request, exc: Exception) -> Response:
    """Like the request deadline's 503, it says when to try again: a slow or lost database
    (an acquire or command timeout) is usually a passing condition."""
    log.warning("database unavailable: %s: %s", type(exc).__name__, exc)
    return Problem(503, "Database unavailable, try again later",
                   headers={"Retry-After": "1"}).response()


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _on_validation)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, _on_http_error)  # type: ignore[arg-type]
    app.add_exception_handler(Problem, _on_problem)  # type: ignore[arg-type]
    for exc_type in DB_UNAVAILABLE:
        app.add_exception_handler(exc_type, _on_db_unavailable)


def register_problem_schemas(openapi: dict[str, Any]) -> dict[str, Any]:
    """Add the problem models to `components.schemas` (referenced by `problem_responses`)."""
    schemas = openapi.setdefault("components", {}).setdefault("schemas", {})
    for model in (ProblemDetail, ValidationErrorItem, ValidationProblem):
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        for name, sub in schema.pop("$defs", {}).items():
            schemas.setdefault(name, sub)
        schemas[model.__name__] = schema
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)
    return openapi
