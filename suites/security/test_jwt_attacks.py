"""Forged, expired and tampered tokens are refused with 401 by every authenticated operation.

Tokens are HS256 with the platform's shared secret and must carry `exp` and `sub`; the
answer to anything else is the documented 401 problem with `WWW-Authenticate: Bearer`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from chaos.topology import load_topology
from suites.helpers import factories
from suites.helpers.problems import assert_problem
from suites.security import tokens

pytestmark = [pytest.mark.platform]

# (method, path, body): one authenticated operation per service, and an admin one.
PROTECTED = [
    ("GET", "/api/v1/users/me", None),
    ("GET", "/api/v1/orders", None),
    ("GET", "/api/v1/orders/1", None),
    ("POST", "/api/v1/orders", {"items": [{"product_id": 1, "quantity": 1}],
                                "payment_token": "tok_visa"}),
    ("GET", "/api/v1/payments", None),
    ("POST", "/api/v1/products", {"sku": "JWT-ATTACK", "name": "x", "description": "x",
                                  "price": "1.00", "stock": 1}),
]


def _secret(running_platform: Any) -> str:
    return str(running_platform.topology.settings.jwt_secret or load_topology().settings.jwt_secret)


def forgeries(secret: str, user_id: int, valid_token: str) -> dict[str, str]:
    now_claims = tokens.claims(user_id, "admin")
    no_exp = {k: v for k, v in tokens.claims(user_id).items() if k != "exp"}
    return {
        "alg none": tokens.alg_none(now_claims),
        "alg none, no signature dot": tokens.alg_none(now_claims).rstrip("."),
        "wrong key": tokens.hs256("not-the-platform-secret-0123456789", now_claims),
        "expired": tokens.hs256(secret, tokens.claims(user_id, ttl_s=-120)),
        "no exp": tokens.hs256(secret, no_exp),
        "no sub": tokens.hs256(secret, {k: v for k, v in now_claims.items() if k != "sub"}),
        "RS256": tokens.with_alg("RS256", now_claims),
        "ES256": tokens.with_alg("ES256", now_claims, b"\x02" * 64),
        "RS/HS confusion: HS256 keyed with a public key": tokens.hmac_signed(
            tokens.PUBLIC_PEM, now_claims),
        "HS512 with the right secret": tokens.hmac_signed(
            secret.encode(), now_claims, "HS512"),
        "tampered payload (role admin)": tokens.tampered(valid_token, role="admin"),
        "tampered payload (other user)": tokens.tampered(valid_token, sub=str(user_id + 1)),
        "unknown role": tokens.hs256(secret, tokens.claims(user_id, "root")),
        "not a jwt": "abc.def",
    }


@pytest.fixture
def attack_setup(api: httpx.Client, running_platform: Any,
                 new_account: Callable[[], factories.Account]) -> tuple[str, dict[str, str]]:
    account = new_account()
    return _secret(running_platform), forgeries(_secret(running_platform), account.id,
                                                 account.token)


@pytest.mark.parametrize(("method", "path", "body"), PROTECTED, ids=lambda v: str(v)[:30])
def test_forged_tokens_get_401_everywhere(api: httpx.Client, attack_setup: tuple[str, dict[str, str]],
                                          method: str, path: str, body: Any) -> None:
    _, forged = attack_setup
    failures = []
    for name, token in forged.items():
        headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": "jwt-attack"}
        answer = api.request(method, path, json=body, headers=headers)
        if answer.status_code != 401:
            failures.append(f"{name}: {answer.status_code} {answer.text[:120]}")
            continue
        assert_problem(answer, 401)
        assert answer.headers.get("www-authenticate", "").lower().startswith("bearer")
    assert not failures, "\n".join(failures)


def test_a_genuine_token_works_and_the_signature_covers_the_role(
        api: httpx.Client, running_platform: Any,
        new_account: Callable[[], factories.Account]) -> None:
    """Control: the same requests with the real token are not 401, and a correctly signed
    token is only as strong as its claims (user role: admin operations are 403)."""
    account = new_account()
    assert api.get("/api/v1/users/me", headers=account.auth).status_code == 200
    signed = tokens.hs256(_secret(running_platform), tokens.claims(account.id))
    assert api.get("/api/v1/orders", headers=factories.bearer(signed)).status_code == 200
    answer = api.post("/api/v1/products", json=PROTECTED[-1][2], headers=account.auth)
    assert_problem(answer, 403)
