"""Root conftest: kept thin. Fixtures live in plugin modules under suites/fixtures/."""
from __future__ import annotations

import signal

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
    _interruptible_children()


def _interruptible_children() -> None:
    """Give the session (and every process it starts) SIGINT back if it came in ignored.

    A shell without job control starts a background job (``make test &``, ``nohup``) with
    SIGINT ignored; children inherit that, and Python then keeps ignoring it. The suites
    press Ctrl-C on controllers they start (``crashcart chaos run`` must roll back and exit
    130), which such a controller would never see. With Python's handler installed here,
    exec'd children start with SIGINT at its default again."""
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
