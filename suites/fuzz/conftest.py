"""Fixtures of the fuzz suite: the identities Schemathesis authenticates as, a quiet platform."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from suites.fuzz.identities import Credentials
from suites.fuzz.steady import wait_for_steady_state
from suites.helpers import factories


@pytest.fixture(scope="session")
def fuzz_identities(running_platform: Any) -> dict[str, Credentials]:
    """Two freshly registered users (peers for the object-level authorization check) and the
    configured admin (credentials from ADMIN_EMAIL/ADMIN_PASSWORD or the topology settings)."""
    with httpx.Client(base_url=str(running_platform.gateway_url), timeout=10.0) as client:
        alice = factories.new_account(client, name="Fuzz Alice")
        bob = factories.new_account(client, name="Fuzz Bob")
    admin_email, admin_password = factories.admin_credentials()
    return {
        "alice": Credentials(alice.email, alice.password),
        "bob": Credentials(bob.email, bob.password),
        "admin": Credentials(admin_email, admin_password),
    }


@pytest.fixture
def steady_platform(running_platform: Any) -> Any:
    """The running platform once no fault is injected and every service is ready."""
    wait_for_steady_state(running_platform)
    return running_platform


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """`campaign` runs of this suite (the fault matrix) only when `-m` asks for them."""
    if "campaign" in (config.getoption("markexpr") or ""):
        return
    here = str(config.rootpath / "suites" / "fuzz")
    kept = [i for i in items if not (i.get_closest_marker("campaign") and str(i.path).startswith(here))]
    if len(kept) != len(items):
        config.hook.pytest_deselected(items=[i for i in items if i not in kept])
        items[:] = kept
