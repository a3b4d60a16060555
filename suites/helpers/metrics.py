"""Reading a service's Prometheus /metrics (straight from the service, not via the gateway)."""
from __future__ import annotations

import httpx
from prometheus_client.parser import text_string_to_metric_families

BREAKER_STATE = "crashcart_circuit_breaker_state"
BREAKER_CLOSED, BREAKER_OPEN, BREAKER_HALF_OPEN = 0, 1, 2


def sample(service_url: str, name: str, **labels: str) -> float | None:
    """The value of the sample `name{labels}` on the service, or None when absent."""
    text = httpx.get(f"{service_url.rstrip('/')}/metrics", timeout=5.0).text
    for family in text_string_to_metric_families(text):
        for metric in family.samples:
            if metric.name == name and all(metric.labels.get(k) == v for k, v in labels.items()):
                return float(metric.value)
    return None


def breaker_state(service_url: str, dependency: str) -> float | None:
    """The circuit breaker gauge of `dependency` (0 closed, 1 open, 2 half-open)."""
    return sample(service_url, BREAKER_STATE, dependency=dependency)
