"""Public user API (`/api/v1/users...`) and the internal lookup used by order-service."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Request
from pydantic import BaseModel
from svckit.auth import CallerDep, issue_token
from svckit.problems import Problem, problem_responses
from svckit.types import MAX_ID, text, text_int

from user_service import repository
from user_service.passwords import hash_password, verify_password
from user_service.throttle import LoginThrottle

# Explicit ASCII ranges, not \s: Python and Rust regex engines disagree on Unicode spaces.
EMAIL_PATTERN = r"^[^@\x00-\x20]+@[^@\x00-\x20]+\.[^@\x00-\x20]+$"
Email = text(3, 254, EMAIL_PATTERN)
Password = text(8, 128)

router = APIRouter(tags=["users"])
internal = APIRouter(tags=["internal"])


class UserCreate(BaseModel):
    email: Email
    password: Password
    name: text(1, 100)


class Login(BaseModel):
    email: text(1, 254)
    password: text(1, 128)


class UserOut(BaseModel):
    id: int
    email: str
    name: str


class Token(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int


def normalise_email(email: str) -> str:
    return email.strip().lower()


def _user_out(row) -> UserOut:  # type: ignore[no-untyped-def]
    return UserOut(id=row["id"], email=row["email"], name=row["name"])


@router.post(
    "/api/v1/users", status_code=201, response_model=UserOut, operation_id="registerUser",
    summary="Register a user", responses=problem_responses(400, 409, 422, 503),
)
async def register(body: UserCreate, request: Request) -> UserOut:
    settings = request.app.state.settings
    password_hash = await hash_password(body.password, settings.password_scrypt_n)
    try:
        row = await repository.create_user(
            request.app.state.pool, normalise_email(body.email), body.name, password_hash
        )
    except repository.EmailTaken:
        raise Problem(409, "This email is already registered") from None
    request.app.state.relay.wake()
    return _user_out(row)


def _login_responses() -> dict[int | str, dict[str, Any]]:
    responses = problem_responses(400, 401, 422, 429, 503)
    responses[429]["description"] = (
        "Too many failed logins for this account or from this client; retry after the"
        " `Retry-After` seconds (the right password is refused too while locked)")
    responses[429]["headers"] = {"Retry-After": {
        "schema": {"type": "integer", "minimum": 1}, "required": True,
        "description": "Seconds to wait before the next attempt"}}
    return responses


def client_address(request: Request) -> str:
    """The caller's address: the gateway always overwrites X-Real-IP with its peer address."""
    forwarded = request.headers.get("x-real-ip", "").strip()
    if forwarded:
        return forwarded[:64]
    return request.client.host if request.client else "unknown"


@router.post(
    "/api/v1/users/login", response_model=Token, operation_id="login",
    summary="Exchange credentials for a bearer token",
    description=(
        "Failed attempts are throttled per account and per client (see user_service.throttle):"
        " after 5 failures for one email each further failure locks it for 1, 2, 4, ..."
        " seconds (at most 15 minutes); a locked attempt answers 429 with `Retry-After`."),
    responses=_login_responses(),
)
async def login(body: Login, request: Request) -> Token:
    settings = request.app.state.settings
    throttle: LoginThrottle = request.app.state.login_throttle
    account, client = normalise_email(body.email), client_address(request)
    wait_s = await throttle.attempt(account, client)
    if wait_s:
        raise Problem(429, f"Too many failed logins; retry after {wait_s} s",
                      headers={"Retry-After": str(wait_s)})
    row = await repository.user_by_email(request.app.state.pool, account)
    # Hash even for an unknown email so timing does not reveal which emails exist.
    ok = await verify_password(body.password, row["password_hash"] if row else _DUMMY_HASH)
    if row is None or not ok:
        raise Problem(401, "Invalid email or password", headers={"WWW-Authenticate": "Bearer"})
    await throttle.succeeded(account, client)
    token = issue_token(settings.jwt_secret, row["id"], row["role"], settings.jwt_ttl_s)
    return Token(access_token=token, expires_in=settings.jwt_ttl_s)


@router.get(
    "/api/v1/users/me", response_model=UserOut, operation_id="getMe",
    summary="The caller's profile", responses=problem_responses(401, 503),
)
async def me(caller: CallerDep, request: Request) -> UserOut:
    row = await repository.user_by_id(request.app.state.pool, caller.user_id)
    if row is None:
        raise Problem(401, "Unknown user", headers={"WWW-Authenticate": "Bearer"})
    return _user_out(row)


@internal.get(
    "/internal/v1/users/{user_id}", response_model=UserOut, operation_id="getUserInternal",
    summary="Service-to-service user lookup (not routed by the gateway)",
    responses=problem_responses(404, 422, 503),
)
async def internal_user(
    user_id: Annotated[text_int(1, MAX_ID), Path()], request: Request
) -> UserOut:
    row = await repository.user_by_id(request.app.state.pool, user_id)
    if row is None:
        raise Problem(404, "No such user")
    return _user_out(row)


# A fixed valid scrypt hash of a random password, verified against for unknown emails.
_DUMMY_HASH = (
    "scrypt$8192$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
)
