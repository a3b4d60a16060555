"""The contract suite in the default run: the pair folders' consumer tests are collected here
(``test_consumer_<pair>.py`` re-export them, so they run before the provider verification:
files run in name order), then providers are verified against the pacts just written."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.register_assert_rewrite("contracts")

from chaos.topology import Topology, load_topology  # noqa: E402
from contracts.fixtures import (  # noqa: E402, F401
    pact_factory,
    pacts_folder,
    pytest_runtest_makereport,
    saga_dbs,
)
from contracts.providers import ProviderProcess, default_log_dir, run_providers  # noqa: E402


@pytest.fixture(scope="session")
def topology() -> Topology:
    return load_topology()


@pytest.fixture(scope="session")
def contract_log_dir() -> Path:
    return default_log_dir()


@pytest.fixture(scope="package")
def contract_providers(topology: Topology, contract_log_dir: Path
                       ) -> Iterator[dict[str, ProviderProcess]]:
    """The four services in contract-test mode on free ports, own databases, no broker;
    stopped when this package's tests are done (not held through the rest of the run)."""
    with run_providers(topology, log_dir=contract_log_dir) as running:
        yield running
