"""JWT (HS256) issue and validation, and the FastAPI dependencies for callers.

user-service issues tokens; every service validates them locally with the shared secret. A
valid signature is not enough: the token's user must still exist. That is one rule for every
service (a token of a vanished user answers 401 everywhere), checked against a
`UserDirectory`: user-service asks its own database, the others ask user-service's internal
lookup through the resilient client and cache the answer for `USER_CACHE_TTL_S` (so a user
costs one look-up per service and TTL, not one per request; a deletion is honoured within
that TTL). While user-service is unreachable, a user confirmed within `USER_STALE_S` is still
accepted (the breaker answers fast); an unconfirmed one gets the dependency's 503/504.
"""

from __future__ import annotations

import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import jwt
from fastapi import Depends, FastAPI, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from svckit.http_client import DependencyTimeout, DependencyUnavailable, ServiceClient
from svckit.problems import Problem, problem_responses

Role = Literal["user", "admin"]
ALGORITHM = "HS256"

bearer_scheme = HTTPBearer(scheme_name="bearer", auto_error=False,
                           description="Access token from POST /api/v1/users/login")

UserLookup = Callable[[int], Awaitable[bool]]
"""Does this user id exist? Raises a dependency Problem (503/504) when it cannot tell."""

USER_CACHE_TTL_S = float(os.environ.get("USER_CACHE_TTL_S", "10"))
USER_STALE_S = float(os.environ.get("USER_STALE_S", "300"))
_CACHE_MAX_ENTRIES = 100_000


@dataclass(frozen=True, slots=True)
class Caller:
    user_id: int
    role: Role

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


def issue_token(secret: str, user_id: int, role: Role, ttl_s: int) -> str:
    now = int(time.time())
    claims = {"sub": str(user_id), "role": role, "iat": now, "exp": now + ttl_s}
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


@dataclass(frozen=True, slots=True)
class _Verified:
    secret: str
    caller: Caller
    expires_at: int


_VERIFIED: dict[str, _Verified] = {}
"""Tokens whose signature and claims were verified, by token: a buyer polling its order sends
the same token many times, and PyJWT's decode was ~6 % of order-service's CPU per poll. A
hit needs the very same token string (its signature included) under the same secret, and
its expiry is checked again on every use."""
_VERIFIED_MAX = 10_000


def decode_token(secret: str, token: str) -> Caller:
    """Validate signature, expiry and claims; raise Problem(401) on anything wrong."""
    known = _VERIFIED.get(token)
    if known is not None and known.secret == secret:
        if not_expired(known.expires_at):
            return known.caller
        del _VERIFIED[token]
    try:
        claims = jwt.decode(token, secret, algorithms=[ALGORITHM],
                            options={"require": ["exp", "sub"]})
        user_id = int(claims["sub"])
        role = claims.get("role", "user")
        expires_at = int(claims["exp"])  # as PyJWT reads it
    except (jwt.PyJWTError, ValueError, TypeError) as exc:
        raise _unauthorized("Invalid or expired token") from exc
    if role not in ("user", "admin") or user_id < 1:
        raise _unauthorized("Invalid token claims")
    caller = Caller(user_id=user_id, role=role)
    if len(_VERIFIED) >= _VERIFIED_MAX:
        _VERIFIED.clear()
    _VERIFIED[token] = _Verified(secret, caller, expires_at)
    return caller


def not_expired(expires_at: int) -> bool:
    """PyJWT's rule (no leeway): a token is valid strictly before its `exp`."""
    return time.time() < expires_at


def _unauthorized(detail: str) -> Problem:
    return Problem(401, detail, headers={"WWW-Authenticate": "Bearer"})


class UserDirectory:
    """Existence of users, cached: (exists, confirmed_at monotonic) per id."""

    def __init__(self, lookup: UserLookup, *, ttl_s: float = USER_CACHE_TTL_S,
                 stale_s: float = USER_STALE_S) -> None:
        self.lookup = lookup
        self.ttl_s = ttl_s
        self.stale_s = stale_s
        self._seen: dict[int, tuple[bool, float]] = {}

    async def exists(self, user_id: int) -> bool:
        now = time.monotonic()
        cached = self._seen.get(user_id)
        if cached is not None and now - cached[1] < self.ttl_s:
            return cached[0]
        try:
            found = await self.lookup(user_id)
        except (DependencyUnavailable, DependencyTimeout):
            if cached is not None and cached[0] and now - cached[1] < self.stale_s:
                return True
            raise
        if self.ttl_s > 0:
            if len(self._seen) >= _CACHE_MAX_ENTRIES:
                self._seen.clear()
            self._seen[user_id] = (found, now)
        return found


def http_user_lookup(users: ServiceClient) -> UserLookup:
    """Ask user-service's internal endpoint (404 = gone)."""

    async def lookup(user_id: int) -> bool:
        response = await users.get(f"/internal/v1/users/{user_id}")
        if response.status_code == 200:
            return True
        if response.status_code == 404:
            return False
        raise DependencyUnavailable("user", f"unexpected answer {response.status_code}")

    return lookup


def set_user_directory(app: FastAPI, directory: UserDirectory) -> None:
    app.state.user_directory = directory


def user_directory(app: FastAPI) -> UserDirectory:
    """The app's directory; services other than user-service get the HTTP one on first use
    (order-service's existing `user` client is reused so one breaker guards the edge)."""
    directory: UserDirectory | None = getattr(app.state, "user_directory", None)
    if directory is None:
        clients: dict[str, Any] = getattr(app.state, "clients", None) or {}
        client = clients.get("user")
        if client is None:
            settings = app.state.settings
            client = ServiceClient("user", settings.user_service_url, settings)
            app.state.user_directory_client = client
        directory = UserDirectory(http_user_lookup(client))
        app.state.user_directory = directory
    return directory


async def current_caller(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
) -> Caller:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise _unauthorized("Missing bearer token")
    caller = decode_token(request.app.state.settings.jwt_secret, credentials.credentials)
    if not await user_directory(request.app).exists(caller.user_id):
        raise _unauthorized("The token's user no longer exists")
    return caller


async def admin_caller(caller: Annotated[Caller, Depends(current_caller)]) -> Caller:
    if not caller.is_admin:
        raise Problem(403, "Admin role required")
    return caller


CallerDep = Annotated[Caller, Depends(current_caller)]
AdminDep = Annotated[Caller, Depends(admin_caller)]


def declare_user_check_answers(openapi: dict[str, Any]) -> dict[str, Any]:
    """Every authenticated operation may answer 401 (bad token, vanished user) and, when the
    user check cannot reach user-service, 503/504: declare them in the document."""
    declared = problem_responses(401, 503, 504)
    for item in openapi.get("paths", {}).values():
        for operation in item.values():
            if not isinstance(operation, dict) or not operation.get("security"):
                continue
            responses = operation.setdefault("responses", {})
            for status, answer in declared.items():
                responses.setdefault(str(status), answer)
    return openapi
