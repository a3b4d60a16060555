"""One headless load run inside this process: Environment + local runner, fresh events.

Why: pytest, the ``crashcart load`` command and the benchmark run Locust as a library so
they can schedule faults, sample the statistics every second and judge the run, and so no
two runs share listeners (a fresh ``Events()`` per run, as Locust's own tests do).

See ``load/__init__`` for why Locust runs here without gevent monkey-patching.
"""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import gevent
from locust import LoadTestShape, User
from locust.env import Environment
from locust.event import Events
from locust.html import get_html_report
from locust.runners import STATE_STOPPED, STATE_STOPPING, Runner
from locust.stats import PERCENTILES_TO_REPORT, StatsCSV, stats_history

from load.data import Catalog, prepare_catalog
from load.gates import Gate, GateReport, evaluate, generator_saturated, load_gates
from load.journeys import Shopper
from load.run_context import set_catalog
from load.samples import Sample, Snapshot, snapshot, whole_run

SAMPLE_INTERVAL_S = 0.5
"""Timeline resolution: recovery times are measured to this granularity."""


@dataclass(slots=True)
class LoadPlan:
    """What to run: against which gateway, which users, how much load, for how long."""

    host: str
    users: int = 10
    spawn_rate: float = 5.0
    run_time_s: float = 30.0
    """Upper bound of the run (a shape may end it earlier)."""
    shape: LoadTestShape | None = None
    user_classes: list[type[User]] = field(default_factory=lambda: [Shopper])
    gates: list[Gate] | None = None
    """None: the default gates file."""
    catalog: Catalog | None = None
    """None: prepared through the gateway before the users start."""


@dataclass(slots=True)
class LoadResult:
    """A finished run: its verdict, figures, the Locust reports and the per-second timeline."""

    report: GateReport
    samples: dict[str, Sample]
    timeline: list[Snapshot]
    catalog: Catalog
    stats_csv: str
    failures_csv: str
    html: str
    started_at: float
    """time.monotonic() when the users started."""
    ended_at: float
    max_cpu_percent: float
    environment: Environment

    def entry(self, key: str) -> Sample:
        return self.samples.get(key, Sample())


def run_load(plan: LoadPlan, *, during: Callable[[Environment, float], None] | None = None
             ) -> LoadResult:
    """Run ``plan`` to its end and judge it. ``during(environment, started_at)`` runs in a
    greenlet beside the users (fault schedules use it); it is killed when the run ends."""
    gates = plan.gates if plan.gates is not None else load_gates()
    environment = Environment(user_classes=plan.user_classes, events=Events(), host=plan.host,
                              shape_class=plan.shape, locustfile="load/locustfile.py")
    catalog = plan.catalog or prepare_catalog(plan.host)
    set_catalog(environment, catalog)
    max_cpu = [0.0]
    environment.events.usage_monitor.add_listener(
        lambda cpu_usage, **_: max_cpu.__setitem__(0, max(max_cpu[0], cpu_usage)))
    runner = environment.create_local_runner()
    timeline: list[Snapshot] = []
    helpers = [gevent.spawn(stats_history, runner), gevent.spawn(_sample_every, runner, timeline)]
    started_at = time.monotonic()
    if plan.shape is not None:
        runner.start_shape()
    else:
        runner.start(plan.users, spawn_rate=plan.spawn_rate)
    if during is not None:
        helpers.append(gevent.spawn(during, environment, started_at))
    try:
        deadline = started_at + plan.run_time_s
        while time.monotonic() < deadline:
            if plan.shape is not None and runner.state in (STATE_STOPPED, STATE_STOPPING):
                break  # the shape ended the run
            gevent.sleep(0.25)
    finally:
        runner.quit()
        ended_at = time.monotonic()
        timeline.append(snapshot(runner.stats))
        gevent.killall(helpers)
    environment.events.quitting.fire(environment=environment, reverse=True)
    samples = whole_run(runner.stats)
    report = evaluate(gates, samples, cpu_saturated=generator_saturated(runner))
    stats_csv, failures_csv = _csv(environment)
    return LoadResult(report, samples, timeline, catalog, stats_csv, failures_csv,
                      get_html_report(environment, show_download_link=False), started_at,
                      ended_at, max_cpu[0], environment)


def _sample_every(runner: Runner, timeline: list[Snapshot]) -> None:
    while True:
        timeline.append(snapshot(runner.stats))
        gevent.sleep(SAMPLE_INTERVAL_S)


def _csv(environment: Environment) -> tuple[str, str]:
    writer = StatsCSV(environment, PERCENTILES_TO_REPORT)
    stats_buffer, failures_buffer = io.StringIO(), io.StringIO()
    writer.requests_csv(csv.writer(stats_buffer))
    writer.failures_csv(csv.writer(failures_buffer))
    return stats_buffer.getvalue(), failures_buffer.getvalue()
