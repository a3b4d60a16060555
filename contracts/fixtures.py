"""Pytest plugin of the contract suite: the clean pacts folder and the per-test Pact writer.

Imported by ``contracts/conftest.py`` and ``suites/contracts/conftest.py`` so the pair folders
run the same whether collected from ``contracts/`` or from the default run (``pytest suites``).
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterator
from pathlib import Path

import pytest
from pact import Pact

from chaos.topology import load_topology
from contracts.messages import SagaDatabases, saga_databases
from contracts.pactkit import new_pact, pacts_dir, wipe

PactFactory = Callable[[str, str], Pact]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]
                              ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Keep each phase's report on the item, so a fixture can tell whether the test passed."""
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


@pytest.fixture(scope="session")
def pacts_folder() -> Path:
    """The pacts folder, emptied once per session before the first consumer test writes."""
    return wipe(pacts_dir())


@pytest.fixture
def pact_factory(request: pytest.FixtureRequest, pacts_folder: Path) -> Iterator[PactFactory]:
    """Hands out fresh V4 ``Pact`` handles; they are written only if the test passed (P2)."""
    made: list[Pact] = []

    def make(consumer: str, provider: str) -> Pact:
        pact = new_pact(consumer, provider)
        made.append(pact)
        return pact

    yield make
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.passed:
        for pact in made:
            pact.write_file(pacts_folder)


@pytest.fixture(scope="package")
def saga_dbs() -> Iterator[SagaDatabases]:
    """Fresh product/order/payment databases with each service's real consumers on them."""
    with saga_databases(load_topology()) as dbs:
        yield dbs
