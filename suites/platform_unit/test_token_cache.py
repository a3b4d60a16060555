"""Verified tokens are remembered, yet a remembered token still expires and still needs its
secret: the cache must never accept what PyJWT would refuse."""

from __future__ import annotations

import time

import jwt
import pytest
from svckit import auth
from svckit.problems import Problem

SECRET = "unit-secret-0123456789-0123456789"


def token(ttl_s: int, sub: str = "7", role: str = "user") -> str:
    now = int(time.time())
    return jwt.encode({"sub": sub, "role": role, "iat": now, "exp": now + ttl_s},
                      SECRET, algorithm=auth.ALGORITHM)


def test_a_remembered_token_answers_the_same_caller() -> None:
    good = token(60)
    first = auth.decode_token(SECRET, good)
    assert auth.decode_token(SECRET, good) == first == auth.Caller(7, "user")


def test_a_remembered_token_is_refused_once_it_expires() -> None:
    expires_at = int(time.time()) + 2  # at least one second left for the first decode
    short = jwt.encode({"sub": "7", "exp": expires_at}, SECRET, algorithm=auth.ALGORITHM)
    assert auth.decode_token(SECRET, short).user_id == 7  # verified and remembered
    time.sleep(max(0.0, expires_at - time.time()) + 0.05)
    with pytest.raises(Problem) as refused:
        auth.decode_token(SECRET, short)
    assert refused.value.status == 401


def test_a_remembered_token_needs_the_secret_it_was_verified_with() -> None:
    good = token(60)
    auth.decode_token(SECRET, good)
    with pytest.raises(Problem) as refused:
        auth.decode_token("another-secret-0123456789-01234567", good)
    assert refused.value.status == 401


def test_a_refused_token_is_not_remembered() -> None:
    bad_role = token(60, role="root")
    for _ in range(2):
        with pytest.raises(Problem):
            auth.decode_token(SECRET, bad_role)
    assert bad_role not in auth._VERIFIED
