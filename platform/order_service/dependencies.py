"""Synchronous look-ups order-service needs before accepting an order.

Both go through svckit's resilient client (timeout, retries with jitter, breaker): the user
must exist (user-service internal endpoint) and every product must exist, priced by
product-service (never by the client).
"""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

from svckit.http_client import DependencyTimeout, DependencyUnavailable, ServiceClient
from svckit.problems import Problem


async def check_user(users: ServiceClient, user_id: int) -> None:
    response = await users.get(f"/internal/v1/users/{user_id}")
    if response.status_code == 404:
        raise Problem(401, "The token's user no longer exists",
                      headers={"WWW-Authenticate": "Bearer"})
    if response.status_code != 200:
        raise DependencyUnavailable("user", f"unexpected answer {response.status_code}")


async def price_of(products: ServiceClient, product_id: int) -> tuple[Decimal, str] | None:
    """(price, currency) of a product, or None if it does not exist."""
    response = await products.get(f"/api/v1/products/{product_id}")
    if response.status_code == 404:
        return None
    if response.status_code != 200:
        raise DependencyUnavailable("product", f"unexpected answer {response.status_code}")
    try:
        body = response.json()
        return Decimal(body["price"]), str(body["currency"])
    except (ValueError, KeyError, TypeError, ArithmeticError) as exc:
        raise DependencyUnavailable("product", "malformed product document") from exc


async def validate_and_price(users: ServiceClient, products: ServiceClient, user_id: int,
                             product_ids: list[int]) -> dict[int, tuple[Decimal, str] | None]:
    """Run the user check and all product look-ups concurrently; dependency loss wins."""
    distinct = sorted(set(product_ids))
    results: list[Any] = await asyncio.gather(
        check_user(users, user_id), *(price_of(products, pid) for pid in distinct),
        return_exceptions=True,
    )
    errors = [r for r in results if isinstance(r, BaseException)]
    for kind in (DependencyTimeout, DependencyUnavailable, Problem, BaseException):
        for err in errors:
            if isinstance(err, kind):
                raise err
    return dict(zip(distinct, results[1:], strict=False))
