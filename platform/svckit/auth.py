"""JWT (HS256) issue and local validation, and the FastAPI dependencies for callers.

user-service issues tokens; every service validates them locally with the shared secret, so
no service needs to call user-service to authenticate a request.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Annotated, Literal

import jwt
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from svckit.problems import Problem

Role = Literal["user", "admin"]
ALGORITHM = "HS256"

bearer_scheme = HTTPBearer(scheme_name="bearer", auto_error=False,
                           description="Access token from POST /api/v1/users/login")


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


def decode_token(secret: str, token: str) -> Caller:
    """Validate signature, expiry and claims; raise Problem(401) on anything wrong."""
    try:
        claims = jwt.decode(token, secret, algorithms=[ALGORITHM],
                            options={"require": ["exp", "sub"]})
        user_id = int(claims["sub"])
        role = claims.get("role", "user")
    except (jwt.PyJWTError, ValueError, TypeError) as exc:
        raise _unauthorized("Invalid or expired token") from exc
    if role not in ("user", "admin") or user_id < 1:
        raise _unauthorized("Invalid token claims")
    return Caller(user_id=user_id, role=role)


def _unauthorized(detail: str) -> Problem:
    return Problem(401, detail, headers={"WWW-Authenticate": "Bearer"})


async def current_caller(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
) -> Caller:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise _unauthorized("Missing bearer token")
    return decode_token(request.app.state.settings.jwt_secret, credentials.credentials)


async def admin_caller(caller: Annotated[Caller, Depends(current_caller)]) -> Caller:
    if not caller.is_admin:
        raise Problem(403, "Admin role required")
    return caller


CallerDep = Annotated[Caller, Depends(current_caller)]
AdminDep = Annotated[Caller, Depends(admin_caller)]
