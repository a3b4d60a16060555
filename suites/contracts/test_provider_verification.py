"""Provider verification: every pact just written, replayed against the provider that must
honour it (contract-test mode, provider states through its state endpoint; messages from
the publishers' real builders). One result per pair, one line per interaction."""

from __future__ import annotations

from pathlib import Path

import allure
import pytest

from contracts.messages import message_producer
from contracts.pactkit import CONTRACTS_DIR, PROVIDERS
from contracts.pairs import PAIRS, Pair
from contracts.providers import ProviderProcess
from contracts.verify import VerificationReport, verify_provider

pytestmark = [allure.epic("contracts")]


@pytest.fixture(scope="module")
def verification(contract_providers: dict[str, ProviderProcess], pacts_folder: Path
                 ) -> dict[str, VerificationReport]:
    """Each provider verified once (HTTP and messages together); pairs read their part."""
    reports = {}
    for provider in PROVIDERS:
        report = verify_provider(provider, pacts_folder, url=contract_providers[provider].url,
                                 messages=message_producer(provider))
        allure.attach("\n".join(report.lines()), name=f"verification of {provider}",
                      attachment_type=allure.attachment_type.TEXT)
        reports[provider] = report
    return reports


@pytest.mark.parametrize("pair", [pytest.param(p, id=p.folder, marks=allure.feature(p.feature))
                                  for p in PAIRS])
def test_provider_honours_the_pact(pair: Pair, verification: dict[str, VerificationReport]
                                   ) -> None:
    """One feature per pair in Allure: the consumer tests and this verification together."""
    report = verification[pair.provider]
    mine = [i for i in report.interactions
            if i.consumer == pair.consumer and i.kind == pair.kind]
    assert mine, (f"no interaction of {pair.consumer} was verified against {pair.provider} "
                  f"(an empty pact never passes):\n" + "\n".join(report.lines()))
    assert not report.errors, "\n".join(report.errors)
    failed = [i.line() for i in mine if not i.passed]
    assert not failed, "\n".join(failed)


def test_each_pair_folder_labels_its_tests_with_the_pair_feature() -> None:
    """Allure shows one feature per pair: the folder's consumer tests carry the same label."""
    for pair in PAIRS:
        source = (CONTRACTS_DIR / pair.folder / "test_consumer.py").read_text()
        assert f'allure.feature("{pair.feature}")' in source, pair.folder
