"""Polling with monotonic deadlines: the platform is eventually consistent (the saga runs
over a broker), so tests wait for a state instead of sleeping a fixed time."""
from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

import allure

T = TypeVar("T")


def poll_until(
    probe: Callable[[], T],
    done: Callable[[T], bool],
    *,
    timeout: float,
    interval: float = 0.1,
    max_interval: float = 1.0,
) -> T:
    """Call `probe` until `done(result)` or the deadline passes; return the last result.

    The caller asserts on the returned value, so a timeout shows the last state seen
    rather than a bare "timed out". The interval grows gently to keep load low.
    """
    probe_name, done_name = _name(probe), _name(done)
    title = f"wait up to {timeout:g}s: {probe_name}" + (
        f" until {done_name}" if done_name != probe_name else "")
    with allure.step(title):
        deadline = time.monotonic() + timeout
        result = probe()
        while not done(result) and time.monotonic() < deadline:
            time.sleep(min(interval, max(0.0, deadline - time.monotonic())))
            interval = min(interval * 1.5, max_interval)
            result = probe()
        return result


def _name(function: Callable[..., object]) -> str:
    """A readable name for a report step (a lambda is named by the function it is in)."""
    name = getattr(function, "__qualname__", repr(function))
    if "<lambda>" in name:
        return name.split(".<locals>.")[0] if ".<locals>." in name else "condition"
    return name.replace(".<locals>.", ".")
