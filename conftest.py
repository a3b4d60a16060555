"""Root conftest: kept thin. Fixtures live in plugin modules under suites/fixtures/."""
from __future__ import annotations

import pytest

pytest_plugins = ["suites.fixtures.platform", "suites.fixtures.reporting",
                  "suites.fixtures.chaos"]

MARKERS = {
    "platform": "needs the running platform (brought up once per session, or reused)",
    "embedded_only": "checks an extension of the embedded Toxiproxy server that upstream lacks",
    "slow": "takes more than a few seconds; part of the default run",
    "campaign": "long chaos/load campaign; opt in with -m campaign",
    "fuzz": "Schemathesis run against a service's OpenAPI document (suites/fuzz)",
    "load": "Locust load run against the platform, judged by SLO gates (suites/load)",
    "browser": "drives headless Debian chromium through Playwright (suites/helpers/browser.py)",
}


def pytest_configure(config: pytest.Config) -> None:
    for name, help_text in MARKERS.items():
        config.addinivalue_line("markers", f"{name}: {help_text}")
