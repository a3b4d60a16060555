"""Locust's reports of a load run, attached to the Allure report.

Why: a red load test is read from its figures; the gates table says which limit broke, the
stats CSV and Locust's HTML report say what else happened in the run.
"""

from __future__ import annotations

import allure

from load.engine import LoadResult


def attach_load_run(result: LoadResult, title: str = "load run") -> None:
    allure.attach(result.report.table(), name=f"{title}: SLO gates",
                  attachment_type=allure.attachment_type.TEXT)
    allure.attach(result.stats_csv, name=f"{title}: stats.csv",
                  attachment_type=allure.attachment_type.CSV)
    allure.attach(result.failures_csv, name=f"{title}: failures.csv",
                  attachment_type=allure.attachment_type.CSV)
    allure.attach(result.html, name=f"{title}: Locust report",
                  attachment_type=allure.attachment_type.HTML)
