"""Locust's web UI in a real browser: start a run from the page, see the journeys' routes, stop.

Debian's chromium, headless, driven by Playwright (suites/helpers/browser.py); Locust is the
real ``locust`` command with the project's locustfile and ``--class-picker``.
"""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

import allure
import pytest

from suites.fixtures.platform import RunningPlatform
from suites.helpers.browser import chromium_page
from suites.helpers.locust_process import free_port, locust_process, wait_for_port
from suites.helpers.waiting import poll_until

pytestmark = [pytest.mark.platform, pytest.mark.load, pytest.mark.browser, pytest.mark.slow]

ROUTES = ("/api/v1/products", "/api/v1/products/{id}", "/api/v1/orders", "/api/v1/orders/{id}",
          "/api/v1/users/login")


def ui_state(url: str) -> str:
    with urllib.request.urlopen(f"{url}/stats/requests", timeout=5) as response:
        return str(json.load(response)["state"])


def test_a_run_started_and_stopped_from_the_web_ui_shows_the_journeys_routes(
        running_platform: RunningPlatform, tmp_path: Path) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = tmp_path / "locust-ui.log"
    try:
        with locust_process(["--host", running_platform.gateway_url, "--web-host", "127.0.0.1",
                             "--web-port", str(port), "--class-picker"], log=log) as locust:
            wait_for_port(port, timeout=30, process=locust)
            with chromium_page() as page:
                page.goto(url)
                shapes = page.locator("select[name=shapeClass] option").all_inner_texts()
                assert {"Default", "RampShape", "StepShape", "SpikeShape", "SoakShape",
                        "CapacityShape"} <= set(shapes)
                page.fill("input[name=userCount]", "3")
                page.fill("input[name=spawnRate]", "3")
                page.locator("button[type=submit]").click()
                for route in ROUTES:
                    page.get_by_role("cell", name=route, exact=True).first.wait_for(timeout=30_000)
                assert poll_until(lambda: ui_state(url), lambda s: s == "running",
                                  timeout=10) == "running"
                allure.attach(page.screenshot(full_page=True), name="Locust UI while running",
                              attachment_type=allure.attachment_type.PNG)
                page.get_by_role("button", name="Stop").click()
                assert poll_until(lambda: ui_state(url), lambda s: s == "stopped",
                                  timeout=15) == "stopped"
    finally:
        allure.attach.file(log, name=log.name, attachment_type=allure.attachment_type.TEXT)
