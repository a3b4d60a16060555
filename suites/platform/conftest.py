"""Fixtures of the platform suite: a gateway client (its exchanges are attached to the
Allure report by suites/fixtures/reporting.py), the admin token, fresh buyers and fresh products."""
from __future__ import annotations

from collections.abc import Callable, Generator, Iterator
from typing import Any

import httpx
import pytest

from suites.helpers import factories
from suites.helpers.http import gateway_client


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(
        item: pytest.Item, call: pytest.CallInfo[None],
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Remember each phase's report on the item, so fixtures can see whether the test failed."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture(scope="session")
def gateway_url(running_platform: Any) -> str:
    return str(running_platform.gateway_url).rstrip("/")


@pytest.fixture
def api(gateway_url: str) -> Iterator[httpx.Client]:
    """A gateway client; its exchanges go into the report (suites/fixtures/reporting.py)."""
    client, _log = gateway_client(gateway_url)
    with client:
        yield client


@pytest.fixture(scope="session")
def admin(gateway_url: str) -> str:
    """The admin's bearer token (the account comes from the platform's configuration)."""
    with httpx.Client(base_url=gateway_url, timeout=10.0) as client:
        return factories.admin_token(client)


@pytest.fixture
def buyer(api: httpx.Client) -> factories.Account:
    """A freshly registered, logged-in user."""
    return factories.new_account(api)


@pytest.fixture
def other_buyer(api: httpx.Client) -> factories.Account:
    return factories.new_account(api, name="Other Buyer")


@pytest.fixture
def new_product(api: httpx.Client, admin: str) -> Callable[..., dict[str, Any]]:
    """Factory of admin-created products whose stock only this test touches."""
    def make(**overrides: Any) -> dict[str, Any]:
        return factories.create_product(api, admin, **overrides)
    return make
