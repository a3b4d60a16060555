"""Where the time goes, from the services' own latency histograms.

Each service exports ``crashcart_http_request_duration_seconds`` (time spent inside the
service, per method/route/status). Two snapshots around a benchmark phase give, per route,
how many requests the phase caused and their mean time inside the service — which
separates the services' work from the hops (nginx, proxies) in front of them.
"""
from __future__ import annotations

import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass

from prometheus_client.parser import text_string_to_metric_families

HISTOGRAM = "crashcart_http_request_duration_seconds"

Key = tuple[str, str, str, str]
"""(service, method, route template, status)"""


@dataclass(slots=True, frozen=True)
class Timing:
    count: float
    total_s: float

    @property
    def mean_ms(self) -> float:
        return 1e3 * self.total_s / self.count if self.count else float("nan")


def snapshot(service_urls: Mapping[str, str]) -> dict[Key, Timing]:
    """Every (service, method, route, status) counter of the latency histograms, right now."""
    counts: dict[Key, float] = {}
    sums: dict[Key, float] = {}
    for service, url in service_urls.items():
        with urllib.request.urlopen(f"{url}/metrics", timeout=10) as answer:
            text = answer.read().decode()
        for family in text_string_to_metric_families(text):
            if family.name != HISTOGRAM:
                continue
            for sample in family.samples:
                key = (service, sample.labels.get("method", ""), sample.labels.get("route", ""),
                       sample.labels.get("status", ""))
                if sample.name.endswith("_count"):
                    counts[key] = sample.value
                elif sample.name.endswith("_sum"):
                    sums[key] = sample.value
    return {key: Timing(count, sums.get(key, 0.0)) for key, count in counts.items()}


def delta(before: Mapping[Key, Timing], after: Mapping[Key, Timing]) -> dict[Key, Timing]:
    """What happened between two snapshots (routes with no new requests left out)."""
    result = {}
    for key, now in after.items():
        then = before.get(key, Timing(0.0, 0.0))
        if now.count > then.count:
            result[key] = Timing(now.count - then.count, now.total_s - then.total_s)
    return result


def table(timings: Mapping[Key, Timing], *, top: int = 10) -> str:
    """The busiest routes of a phase: requests and mean time inside the service."""
    rows = ["| service | request | status | requests | mean ms inside the service |",
            "|---|---|---:|---:|---:|"]
    busiest = sorted(timings.items(), key=lambda item: item[1].count, reverse=True)[:top]
    for (service, method, route, status), timing in busiest:
        rows.append(f"| {service} | {method} {route} | {status} | {timing.count:.0f} | "
                    f"{timing.mean_ms:.2f} |")
    return "\n".join(rows)
