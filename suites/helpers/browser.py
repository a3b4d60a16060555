"""A headless Chromium page for browser tests: Debian's system browser driven by Playwright.

Why one helper: the web-UI tests (Locust's UI, the Allure report) must never download a
browser (no internet on CI machines but Debian's apt) and must start it the same hardened
way; ``.ci/setup.sh`` installs ``chromium`` and ``chromium-driver``. Use::

    with chromium_page() as page:
        page.goto(url)
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from playwright.sync_api import Page

CHROMIUM = Path(os.environ.get("CRASHCART_CHROMIUM", "/usr/bin/chromium"))
"""The system browser (Debian's ``chromium`` package)."""
CHROMIUM_ARGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run")
"""No sandbox (root in CI), and nothing that reaches the network on its own."""


@contextmanager
def chromium_page(*, timeout_s: float = 15.0, width: int = 1400,
                  height: int = 900) -> Iterator[Page]:
    """A fresh page in a fresh headless Chromium; browser closed afterwards, also on failure."""
    if not CHROMIUM.is_file():
        raise FileNotFoundError(f"{CHROMIUM} not found: run .ci/setup.sh (apt chromium)")
    os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM),
                                             args=list(CHROMIUM_ARGS), headless=True)
        try:
            page = browser.new_page(viewport={"width": width, "height": height})
            page.set_default_timeout(timeout_s * 1000)
            yield page
        finally:
            browser.close()
