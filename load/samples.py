"""Counts and latency histograms of statistics entries, for a whole run or a time window.

Why: the gates judge a whole run, the capacity shape judges each step, and a load-under-fault
run judges the window of the fault and every second after it. All of them need the same
figures (requests, failures, percentiles, requests/s) over a span of time; Locust keeps only
cumulative entries, so a window is the difference of two snapshots of them.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from locust.stats import calculate_response_time_percentile, diff_response_time_dicts

if TYPE_CHECKING:
    from locust.stats import RequestStats, StatsEntry

AGGREGATED = "Aggregated"
"""Key of all requests together (Locust's own name for its total row)."""


def entry_key(method: str | None, name: str) -> str:
    """``"GET /api/v1/orders/{id}"``: how gates and reports name a statistics entry."""
    return f"{method} {name}" if method else name


@dataclass(slots=True)
class Sample:
    """One entry's figures over a span of ``duration_s`` seconds."""

    num_requests: int = 0
    num_failures: int = 0
    response_times: dict[int, int] = field(default_factory=dict)
    """Locust's rounded response time (ms) → count."""
    duration_s: float = 0.0

    def percentile_ms(self, fraction: float) -> float | None:
        if not self.num_requests:
            return None
        return float(calculate_response_time_percentile(self.response_times, self.num_requests,
                                                        fraction))

    @property
    def failure_ratio(self) -> float | None:
        return self.num_failures / self.num_requests if self.num_requests else None

    @property
    def rps(self) -> float | None:
        return self.num_requests / self.duration_s if self.duration_s > 0 else None

    def minus(self, earlier: Sample, duration_s: float) -> Sample:
        return Sample(self.num_requests - earlier.num_requests,
                      self.num_failures - earlier.num_failures,
                      diff_response_time_dicts(self.response_times, earlier.response_times),
                      duration_s)


def _sample(entry: StatsEntry, duration_s: float) -> Sample:
    return Sample(entry.num_requests, entry.num_failures, dict(entry.response_times), duration_s)


@dataclass(slots=True)
class Snapshot:
    """Every entry of a RequestStats at one moment (``at``: time.monotonic())."""

    at: float
    entries: dict[str, Sample]

    def since(self, earlier: Snapshot) -> dict[str, Sample]:
        """The window between ``earlier`` and this snapshot."""
        span = self.at - earlier.at
        empty = Sample()
        return {key: sample.minus(earlier.entries.get(key, empty), span)
                for key, sample in self.entries.items()}


def snapshot(stats: RequestStats, at: float | None = None) -> Snapshot:
    """Every entry now; ``at`` is the moment on the caller's clock (default monotonic)."""
    return Snapshot(time.monotonic() if at is None else at, {
        **{entry_key(e.method, e.name): _sample(e, 0.0) for e in stats.entries.values()},
        AGGREGATED: _sample(stats.total, 0.0),
    })


def whole_run(stats: RequestStats) -> dict[str, Sample]:
    """The entries of a finished run, over its duration (first to last request)."""
    duration = 0.0
    if stats.last_request_timestamp and stats.start_time:
        duration = max(0.0, stats.last_request_timestamp - stats.start_time)
    result = {entry_key(e.method, e.name): _sample(e, duration) for e in stats.entries.values()}
    result[AGGREGATED] = _sample(stats.total, duration)
    return result


def merged(samples: Mapping[str, Sample], keys: list[str]) -> Sample:
    """Several entries as one (e.g. the saga outcomes together)."""
    total = Sample()
    for key in keys:
        part = samples.get(key)
        if part is None:
            continue
        total.num_requests += part.num_requests
        total.num_failures += part.num_failures
        total.duration_s = max(total.duration_s, part.duration_s)
        for ms, count in part.response_times.items():
            total.response_times[ms] = total.response_times.get(ms, 0) + count
    return total
