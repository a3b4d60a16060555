"""One rule for a valid token whose user no longer exists: 401 from every service.

Before the fix `/users/me` and `POST /orders` answered 401 but `GET /orders` and
`GET /payments` answered 200 with empty lists. Services other than user-service confirm the
user through user-service and cache the answer (svckit.auth.USER_CACHE_TTL_S, 10 s): a user
never seen is refused at once, one seen recently within the TTL.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from suites.helpers import factories, platform_db
from suites.helpers.problems import assert_problem
from suites.helpers.waiting import poll_until

pytestmark = [pytest.mark.platform]

USER_CACHE_TTL_S = 10.0
REQUESTS = [
    ("GET", "/api/v1/users/me", None),
    ("GET", "/api/v1/orders", None),
    ("GET", "/api/v1/orders/1", None),
    ("POST", "/api/v1/orders", {"items": [{"product_id": 1, "quantity": 1}],
                                "payment_token": "tok_visa"}),
    ("GET", "/api/v1/payments", None),
]


def _delete_user(running_platform: Any, user_id: int) -> None:
    platform_db.rows(running_platform.topology, "user", "DELETE FROM users WHERE id = $1",
                     user_id)


def _call(api: httpx.Client, account: factories.Account, method: str, path: str,
          body: Any) -> httpx.Response:
    return api.request(method, path, json=body,
                       headers={**account.auth, "Idempotency-Key": factories.unique("k")})


def test_a_vanished_users_token_is_refused_by_every_service(
        api: httpx.Client, running_platform: Any,
        new_account: Callable[[], factories.Account]) -> None:
    account = new_account()
    _delete_user(running_platform, account.id)
    for method, path, body in REQUESTS:
        body_doc = assert_problem(_call(api, account, method, path, body), 401)
        assert "no longer exists" in body_doc["detail"] or path.endswith("/me"), body_doc


def test_a_user_seen_recently_is_refused_within_the_cache_ttl(
        api: httpx.Client, running_platform: Any,
        new_account: Callable[[], factories.Account]) -> None:
    account = new_account()
    for path in ("/api/v1/orders", "/api/v1/payments"):
        assert api.get(path, headers=account.auth).status_code == 200
    _delete_user(running_platform, account.id)
    for path in ("/api/v1/orders", "/api/v1/payments"):
        answer = poll_until(lambda p=path: api.get(p, headers=account.auth),  # type: ignore[misc]
                            lambda a: a.status_code == 401,
                            timeout=USER_CACHE_TTL_S + 5, interval=0.5)
        assert_problem(answer, 401)
