"""A small async circuit breaker (closed -> open -> half-open), one per dependency.

Closed: calls flow; consecutive failures are counted. At the threshold the breaker opens and
callers fail fast (no waiting on a dead dependency). After `reset_timeout_s` one trial call
is let through (half-open): success closes the breaker, failure opens it again.
The state is exported as the gauge `crashcart_circuit_breaker_state{dependency}`.
"""

from __future__ import annotations

import enum
import logging
import time
from collections.abc import Callable

from svckit.metrics import BREAKER_STATE

log = logging.getLogger("svckit.breaker")


class BreakerState(enum.IntEnum):
    CLOSED = 0
    OPEN = 1
    HALF_OPEN = 2


class CircuitOpenError(Exception):
    """The breaker refused the call without trying it."""

    def __init__(self, dependency: str) -> None:
        super().__init__(f"circuit for {dependency} is open")
        self.dependency = dependency


class CircuitBreaker:
    def __init__(
        self,
        dependency: str,
        *,
        failure_threshold: int = 5,
        reset_timeout_s: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.dependency = dependency
        self.failure_threshold = failure_threshold
        self.reset_timeout_s = reset_timeout_s
        self._clock = clock
        self._failures = 0
        self._opened_at = 0.0
        self._trial_in_flight = False
        self._state = BreakerState.CLOSED
        BREAKER_STATE.labels(dependency).set(0)

    @property
    def state(self) -> BreakerState:
        waited = self._clock() - self._opened_at
        if self._state is BreakerState.OPEN and waited >= self.reset_timeout_s:
            self._set(BreakerState.HALF_OPEN)
        return self._state

    def before_call(self) -> None:
        """Raise CircuitOpenError unless a call may go out now."""
        state = self.state
        if state is BreakerState.OPEN:
            raise CircuitOpenError(self.dependency)
        if state is BreakerState.HALF_OPEN:
            if self._trial_in_flight:
                raise CircuitOpenError(self.dependency)
            self._trial_in_flight = True

    def record_success(self) -> None:
        self._failures = 0
        self._trial_in_flight = False
        if self._state is not BreakerState.CLOSED:
            self._set(BreakerState.CLOSED)

    def abandon(self) -> None:
        """A call ended without a verdict (cancelled): let the next trial through."""
        self._trial_in_flight = False

    def record_failure(self) -> None:
        self._trial_in_flight = False
        if self._state is BreakerState.HALF_OPEN:
            self._open()
            return
        self._failures += 1
        if self._state is BreakerState.CLOSED and self._failures >= self.failure_threshold:
            self._open()

    def _open(self) -> None:
        self._opened_at = self._clock()
        self._set(BreakerState.OPEN)

    def _set(self, state: BreakerState) -> None:
        if state is not self._state:
            log.warning("circuit %s: %s -> %s", self.dependency, self._state.name, state.name)
        self._state = state
        BREAKER_STATE.labels(self.dependency).set(int(state))
