"""The planted report opened in Debian's chromium (headless, Playwright): each failure is
found under its own category, and a failure's page shows the attachments that explain it."""

from __future__ import annotations

import pytest

from suites.helpers.browser import chromium_page
from suites.report.throwaway import EXPECTED

pytestmark = pytest.mark.slow


def test_each_planted_failure_sits_under_its_category(planted_report_url: str) -> None:
    with chromium_page() as page:
        page.goto(planted_report_url + "#categories")
        for test_name, category in EXPECTED.items():
            section = page.get_by_test_id("tree-section").filter(has_text=category.name)
            section.first.click()
            leaf = page.get_by_text(test_name, exact=True)
            leaf.first.wait_for(state="visible")
            # The leaf is inside this category's subtree: collapse it and the leaf goes.
            section.first.click()
            leaf.first.wait_for(state="hidden")

        # One failure opened: its message and the attachments a reader needs.
        page.get_by_test_id("tree-section").filter(has_text="Fault left behind").first.click()
        page.get_by_text("test_planted_fault_left_behind", exact=True).first.click()
        error = page.get_by_test_id("test-result-error-message").first
        error.wait_for(state="visible")
        assert "fault left behind" in error.inner_text()
        assert "planted_latency" in error.inner_text()
        page.get_by_test_id("test-result-tab-attachments").first.click()
        attachments = page.get_by_test_id("test-result-attachment-header")
        attachments.first.wait_for(state="visible")
        titles = " | ".join(attachments.all_inner_texts())
        assert "HTTP exchanges" in titles, titles
        assert "faults in force (timeline)" in titles, titles
        attachments.filter(has_text="HTTP exchanges").first.click()
        body = page.get_by_text("X-Request-ID", exact=False)
        body.first.wait_for(state="visible")
        assert page.get_by_text("planted-rid-1", exact=False).count() > 0
