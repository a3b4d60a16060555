"""Operations endpoints: the gateway's aggregated health, and each service's own liveness,
readiness and Prometheus metrics on its direct port."""
from __future__ import annotations

from typing import Any

import allure
import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

pytestmark = [pytest.mark.platform, allure.feature("Operations")]

SERVICES = ["user", "product", "order", "payment"]


def test_the_gateway_reports_every_service_ready(api: httpx.Client,
                                                 running_platform: Any) -> None:
    answer = api.get("/health")

    assert answer.status_code == 200
    health = answer.json()
    assert health["status"] == "ok"
    assert set(health["services"]) == set(running_platform.service_urls)
    assert all(service["status"] == "ok" for service in health["services"].values()), health


@pytest.mark.parametrize("service", SERVICES)
@pytest.mark.parametrize("probe", ["/health/live", "/health/ready"])
def test_each_service_answers_its_health_probes(running_platform: Any, service: str,
                                                probe: str) -> None:
    answer = httpx.get(f"{running_platform.service_urls[service]}{probe}", timeout=5.0)

    assert answer.status_code == 200, answer.text


@pytest.mark.parametrize("service", SERVICES)
def test_each_service_exports_prometheus_metrics(running_platform: Any, service: str) -> None:
    answer = httpx.get(f"{running_platform.service_urls[service]}/metrics", timeout=5.0)

    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain")
    names = {family.name for family in text_string_to_metric_families(answer.text)}
    assert "crashcart_http_request_duration_seconds" in names
