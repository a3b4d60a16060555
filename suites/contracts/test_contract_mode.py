"""The provider-state endpoint exists only in contract-test mode, and refuses unknown states
at once (a 5xx would make the Pact verifier retry for about two minutes, notes P8)."""

from __future__ import annotations

import time

import allure
import httpx
import pytest
from svckit.contract_mode import MODE_ENV, STATE_PATH

from chaos.topology import REPO_ROOT, Topology
from contracts.pactkit import PROVIDERS
from contracts.providers import ProviderProcess
from suites.fixtures.platform import RunningPlatform

pytestmark = [allure.epic("contracts"), allure.feature("contract-test mode")]


@pytest.mark.parametrize("provider", PROVIDERS)
def test_an_unknown_state_is_refused_at_once(provider: str,
                                             contract_providers: dict[str, ProviderProcess]
                                             ) -> None:
    started = time.monotonic()
    answer = httpx.post(f"{contract_providers[provider].url}{STATE_PATH}", timeout=10,
                        json={"state": "the moon is made of cheese", "action": "setup",
                              "params": {}})
    assert answer.status_code == 400
    assert "unknown provider state" in answer.json()["detail"]
    assert time.monotonic() - started < 5


def test_nothing_that_starts_the_platform_sets_contract_mode(topology: Topology) -> None:
    for name in topology.services:
        assert MODE_ENV not in topology.service_env(name)
        assert MODE_ENV not in topology.service_env(name, topology.compose_addressing())
    assert MODE_ENV not in (REPO_ROOT / "docker-compose.yml").read_text()


@pytest.mark.platform
def test_the_state_endpoint_is_absent_in_a_normal_run(running_platform: RunningPlatform) -> None:
    for name, url in running_platform.service_urls.items():
        answer = httpx.post(f"{url}{STATE_PATH}", timeout=10,
                            json={"state": "user {id} exists", "params": {"id": 1}})
        assert answer.status_code == 404, f"{name}-service answered {answer.status_code}"
    through_gateway = httpx.post(f"{running_platform.gateway_url}{STATE_PATH}", timeout=10,
                                 json={"state": "x"})
    assert through_gateway.status_code == 404
