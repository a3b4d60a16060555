"""The circuit breaker's state machine, driven by a fake clock."""

from __future__ import annotations

import pytest
from svckit.breaker import BreakerState, CircuitBreaker, CircuitOpenError
from svckit.metrics import BREAKER_STATE


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def gauge(dependency: str) -> float:
    return BREAKER_STATE.labels(dependency)._value.get()


def test_opens_after_threshold_consecutive_failures() -> None:
    breaker = CircuitBreaker("unit-a", failure_threshold=3, reset_timeout_s=5, clock=Clock())
    for _ in range(2):
        breaker.before_call()
        breaker.record_failure()
    assert breaker.state is BreakerState.CLOSED
    breaker.before_call()
    breaker.record_failure()
    assert breaker.state is BreakerState.OPEN
    assert gauge("unit-a") == 1
    with pytest.raises(CircuitOpenError):
        breaker.before_call()


def test_success_resets_the_failure_count() -> None:
    breaker = CircuitBreaker("unit-b", failure_threshold=2, clock=Clock())
    breaker.record_failure()
    breaker.record_success()
    breaker.record_failure()
    assert breaker.state is BreakerState.CLOSED


def test_half_open_lets_one_trial_through_and_closes_on_success() -> None:
    clock = Clock()
    breaker = CircuitBreaker("unit-c", failure_threshold=1, reset_timeout_s=5, clock=clock)
    breaker.record_failure()
    clock.now += 5
    assert breaker.state is BreakerState.HALF_OPEN
    assert gauge("unit-c") == 2
    breaker.before_call()  # the trial
    with pytest.raises(CircuitOpenError):
        breaker.before_call()  # no second caller while the trial is out
    breaker.record_success()
    assert breaker.state is BreakerState.CLOSED
    assert gauge("unit-c") == 0


def test_failed_trial_reopens_for_a_full_timeout() -> None:
    clock = Clock()
    breaker = CircuitBreaker("unit-d", failure_threshold=1, reset_timeout_s=5, clock=clock)
    breaker.record_failure()
    clock.now += 5
    breaker.before_call()
    breaker.record_failure()
    assert breaker.state is BreakerState.OPEN
    clock.now += 4.9
    assert breaker.state is BreakerState.OPEN
