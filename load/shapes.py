"""Load shapes: ramp, step, spike, soak, and capacity (step up until an SLO breaks).

Why: a fixed user count answers one question; these answer the usual others (how does it
behave while load grows, at a sudden spike, over a long time, and how much can it take).
All read Locust's common options (``use_common_options``): ``-u`` is the peak users, ``-r``
the spawn rate and ``-t`` the duration, so one shape serves the CLI, the web UI (where
``--class-picker`` lists them) and the harness (constructor arguments).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from locust import LoadTestShape

from load.gates import CHECKOUT_PAID, Gate, load_gates, window_breaches
from load.samples import Snapshot, snapshot


class _Shape(LoadTestShape):
    """Common options first, then the constructor's values, then the class defaults."""

    abstract = True
    use_common_options = True
    peak_users: int = 20
    spawn_rate: float = 5.0
    duration_s: float = 120.0

    def __init__(self, *, peak_users: int | None = None, spawn_rate: float | None = None,
                 duration_s: float | None = None) -> None:
        super().__init__()
        self._given: dict[str, Any] = {"peak_users": peak_users, "spawn_rate": spawn_rate,
                                       "duration_s": duration_s}

    def _value(self, attribute: str, option: str) -> Any:
        options = self.runner.environment.parsed_options if self.runner else None
        from_cli = getattr(options, option, None) if options is not None else None
        if from_cli:
            return from_cli
        given = self._given.get(attribute)
        return given if given is not None else getattr(self, attribute)

    def peak(self) -> int:
        return max(1, int(self._value("peak_users", "num_users")))

    def rate(self) -> float:
        return float(self._value("spawn_rate", "spawn_rate"))

    def duration(self) -> float:
        return float(self._value("duration_s", "run_time"))

    def tick(self) -> tuple[int, float] | None:
        elapsed = self.get_run_time()
        if elapsed >= self.duration():
            return None
        return self.users_at(elapsed), self.rate()

    def users_at(self, elapsed_s: float) -> int:
        raise NotImplementedError


class RampShape(_Shape):
    """Linear ramp from one user to the peak over the first half, then hold the peak."""

    def users_at(self, elapsed_s: float) -> int:
        ramp_s = self.duration() / 2
        return max(1, math.ceil(self.peak() * min(1.0, elapsed_s / ramp_s)))


class StepShape(_Shape):
    """``steps`` equal plateaus up to the peak (peak/steps users more at each step)."""

    steps: int = 4

    def users_at(self, elapsed_s: float) -> int:
        step = min(self.steps, int(elapsed_s // (self.duration() / self.steps)) + 1)
        return max(1, math.ceil(self.peak() * step / self.steps))


class SpikeShape(_Shape):
    """A fifth of the peak, the full peak from 40 % to 60 % of the run, then back."""

    def users_at(self, elapsed_s: float) -> int:
        fraction = elapsed_s / self.duration()
        if 0.4 <= fraction < 0.6:
            return self.peak()
        return max(1, self.peak() // 5)

    def tick(self) -> tuple[int, float] | None:
        current = super().tick()
        if current is None:
            return None
        # a spike arrives at once: spawn the whole difference within a second
        return current[0], max(self.rate(), float(self.peak()))


class SoakShape(_Shape):
    """The peak held for a long time (30 min by default) after a one-minute ramp."""

    duration_s = 1800.0
    peak_users = 10

    def users_at(self, elapsed_s: float) -> int:
        return max(1, math.ceil(self.peak() * min(1.0, elapsed_s / 60.0)))


@dataclass(slots=True, frozen=True)
class CapacityStep:
    """One plateau of the capacity search."""

    users: int
    checkouts_per_s: float
    """Checkouts that reached PAID per second during the plateau's judged part."""
    held: bool
    """Whether the SLO (window gates) held during the plateau's judged part."""
    broken_by: tuple[str, ...] = ()
    """The gates the plateau broke."""


class CapacityShape(_Shape):
    """Step users up until an SLO breaks; ``result()`` is the highest checkouts/s held.

    Each plateau lasts ``step_s``; its first third lets the load settle and the rest is
    judged with the gates file's latency and failure gates. The search stops at the first
    breach or at the peak (``-u``: the upper bound of the search).
    """

    peak_users = 64
    step_users: int = 4
    step_s: float = 15.0
    duration_s = 3600.0

    def __init__(self, *, gates: list[Gate] | None = None, step_users: int | None = None,
                 step_s: float | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.gates = gates
        self._given.update(step_users=step_users, step_s=step_s)
        self.steps: list[CapacityStep] = []
        self._judge_from: Snapshot | None = None
        self._step_index = -1
        self._stopped = False

    def reset_time(self) -> None:
        super().reset_time()
        self.steps, self._judge_from, self._step_index, self._stopped = [], None, -1, False

    def tick(self) -> tuple[int, float] | None:
        if self._stopped or self.runner is None:
            return None
        elapsed = self.get_run_time()
        step_s, step_users = self.plateau_s(), self.plateau_users()
        index = int(elapsed // step_s)
        within = elapsed - index * step_s
        if index != self._step_index:
            if self._step_index >= 0 and not self._close_step():
                self._stopped = True
                return None
            self._step_index, self._judge_from = index, None
        if self._judge_from is None and within >= step_s / 3:
            self._judge_from = snapshot(self.runner.stats, elapsed)
        if elapsed >= self.duration() or index >= math.ceil(self.peak() / step_users):
            self._close_step()
            self._stopped = True
            return None
        return self._users(index), max(self.rate(), float(step_users))

    def plateau_users(self) -> int:
        """Users added per plateau (``--step-users``, the constructor, the class default)."""
        return max(1, int(self._value("step_users", "step_users")))

    def plateau_s(self) -> float:
        """Length of a plateau (``--step-seconds``, the constructor, the class default)."""
        return float(self._value("step_s", "step_seconds"))

    def _users(self, index: int) -> int:
        return min(self.peak(), self.plateau_users() * (index + 1))

    def _close_step(self) -> bool:
        """Judge the plateau that just ended; False when it broke the SLO."""
        if self._judge_from is None or self.runner is None:
            return True
        window = snapshot(self.runner.stats, self.get_run_time()).since(self._judge_from)
        paid = window.get(CHECKOUT_PAID)
        rate = ((paid.num_requests - paid.num_failures) / paid.duration_s
                if paid and paid.duration_s else 0.0)
        users = self._users(self._step_index)
        breaches = tuple(window_breaches(self._gates(), window))
        self.steps.append(CapacityStep(users, rate, not breaches, breaches))
        return not breaches

    def _gates(self) -> list[Gate]:
        if self.gates is None:
            options = self.runner.environment.parsed_options if self.runner else None
            self.gates = load_gates(getattr(options, "slo_file", None) or None)
        return self.gates

    def result(self) -> CapacityStep | None:
        """The held plateau with the most checkouts/s (None: not even the first held)."""
        held = [step for step in self.steps if step.held]
        return max(held, key=lambda step: step.checkouts_per_s) if held else None

    def summary(self) -> str:
        lines = ["| users | checkouts/s (PAID) | SLO |", "|---:|---:|---|"]
        lines += [f"| {s.users} | {s.checkouts_per_s:.1f} | "
                  f"{'held' if s.held else 'BROKEN: ' + '; '.join(s.broken_by)} |"
                  for s in self.steps]
        best = self.result()
        lines.append("capacity: " + (f"{best.checkouts_per_s:.1f} checkouts/s within the SLO "
                                     f"at {best.users} users" if best else
                                     "no plateau held the SLO"))
        return "\n".join(lines)


SHAPES: dict[str, type[_Shape]] = {
    "ramp": RampShape, "step": StepShape, "spike": SpikeShape, "soak": SoakShape,
    "capacity": CapacityShape,
}
"""``--shape`` names → classes."""
