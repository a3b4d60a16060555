"""Fixtures of the security suite: the gateway and direct service URLs, fresh accounts, the
admin token. Every test here asserts the answer the platform documents for an attack."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from suites.helpers import factories


@pytest.fixture(scope="session")
def gateway_url(running_platform: Any) -> str:
    return str(running_platform.gateway_url).rstrip("/")


@pytest.fixture(scope="session")
def service_urls(running_platform: Any) -> dict[str, str]:
    return {name: str(url).rstrip("/") for name, url in running_platform.service_urls.items()}


@pytest.fixture
def api(gateway_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=gateway_url, timeout=15.0) as client:
        yield client


@pytest.fixture(scope="session")
def admin_token(gateway_url: str) -> str:
    with httpx.Client(base_url=gateway_url, timeout=15.0) as client:
        return factories.admin_token(client)


@pytest.fixture
def new_account(api: httpx.Client) -> Callable[[], factories.Account]:
    return lambda: factories.new_account(api, name="Security Probe")


@pytest.fixture
def new_product(api: httpx.Client, admin_token: str) -> Callable[..., dict[str, Any]]:
    return lambda **kw: factories.create_product(api, admin_token, **kw)
