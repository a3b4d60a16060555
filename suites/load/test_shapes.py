"""Load shapes: users over time for ramp/step/spike/soak; the capacity search stops at a breach."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from locust.stats import RequestStats

from load.gates import CHECKOUT_PAID, Gate
from load.shapes import SHAPES, CapacityShape, RampShape, SoakShape, SpikeShape, StepShape


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def ticks(shape: object, times: list[float]) -> list[object]:
    clock = Clock()
    shape.get_run_time = clock  # type: ignore[attr-defined]
    result = []
    for moment in times:
        clock.now = moment
        tick = shape.tick()  # type: ignore[attr-defined]
        result.append(None if tick is None else tick[0])
    return result


def test_ramp_grows_to_the_peak_over_half_the_run_then_holds() -> None:
    shape = RampShape(peak_users=10, duration_s=40)
    assert ticks(shape, [0, 5, 10, 20, 39, 40]) == [1, 3, 5, 10, 10, None]


def test_step_climbs_equal_plateaus() -> None:
    shape = StepShape(peak_users=8, duration_s=40)
    assert ticks(shape, [0, 9.9, 10, 20, 30, 39.9, 40]) == [2, 2, 4, 6, 8, 8, None]


def test_spike_jumps_to_the_peak_for_the_middle_fifth_at_once() -> None:
    shape = SpikeShape(peak_users=20, spawn_rate=2, duration_s=100)
    assert ticks(shape, [0, 39, 40, 59, 60, 99, 100]) == [4, 4, 20, 20, 4, 4, None]
    shape.get_run_time = lambda: 45.0  # type: ignore[method-assign]
    assert shape.tick() == (20, 20.0)  # the whole spike spawns within a second


def test_soak_holds_for_half_an_hour_by_default() -> None:
    assert ticks(SoakShape(), [0, 60, 1799, 1800]) == [1, 10, 10, None]


def test_common_options_override_the_shape_defaults() -> None:
    shape = StepShape()
    options = SimpleNamespace(num_users=4, spawn_rate=2.0, run_time=8)
    shape.runner = SimpleNamespace(environment=SimpleNamespace(parsed_options=options))  # type: ignore[assignment]
    assert ticks(shape, [0, 2, 4, 7.9, 8]) == [1, 2, 3, 4, None]


def test_every_shape_is_selectable_by_name() -> None:
    assert set(SHAPES) == {"ramp", "step", "spike", "soak", "capacity"}


def _log(stats: RequestStats, method: str, name: str, ms: int, count: int) -> None:
    for _ in range(count):
        stats.log_request(method, name, ms, 0)


def test_capacity_steps_up_until_the_slo_breaks_and_reports_the_best_held_plateau() -> None:
    stats = RequestStats()
    gates = [Gate("POST /api/v1/orders", "p95_ms", 500)]
    shape = CapacityShape(gates=gates, step_users=5, step_s=9, peak_users=50)
    shape.runner = SimpleNamespace(  # type: ignore[assignment]
        stats=stats, environment=SimpleNamespace(parsed_options=None))
    clock = Clock()
    shape.get_run_time = clock  # type: ignore[method-assign]
    seen = []
    # plateau k (0-based) spans [9k, 9k+9); judged from 9k+3. Latency breaks in plateau 2.
    for second in range(40):
        clock.now = float(second)
        tick = shape.tick()
        seen.append(None if tick is None else tick[0])
        if tick is None:
            break
        plateau = second // 9
        _log(stats, "POST", "/api/v1/orders", 100 if plateau < 2 else 900, 10)
        _log(stats, "SAGA", CHECKOUT_PAID.split(" ", 1)[1], 200, 2 * (plateau + 1))
    assert seen[:9] == [5] * 9 and seen[9:18] == [10] * 9 and seen[18:27] == [15] * 9
    assert seen[27] is None  # the breach in plateau 2 ends the search
    assert [(s.users, s.held) for s in shape.steps] == [(5, True), (10, True), (15, False)]
    best = shape.result()
    assert best is not None and best.users == 10
    assert best.checkouts_per_s == pytest.approx(4.0, rel=0.3)
    assert "capacity: " in shape.summary()
