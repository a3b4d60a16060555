"""What one test did, collected while it runs, for its report entry.

Why: a failure is read from the requests the test sent (with their X-Request-ID, which joins
them to the services' log lines) and the faults that were in force when it sent them. The
reporting plugin (suites/fixtures/reporting.py) opens a ``TestTrace`` per test; the gateway
client (suites/helpers/http.py) and any helper that knows a request id feed it. Outside a
test (or without the plugin) there is no current trace and feeding it is a no-op.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

import allure

MAX_EXCHANGES = 50


@dataclass(slots=True)
class TestTrace:
    """Request ids, rendered exchanges and the fault timeline of one test."""

    fault_probe: Callable[[], list[str]] | None = None
    """Returns the faults in force now (one line each); called before each exchange is
    recorded, so the timeline shows what a request met."""
    request_ids: list[str] = field(default_factory=list)
    exchanges: deque[str] = field(default_factory=lambda: deque(maxlen=MAX_EXCHANGES))
    fault_timeline: list[str] = field(default_factory=list)
    _last_faults: list[str] | None = None
    started: float = field(default_factory=time.time)

    def note_request_id(self, request_id: str | None) -> None:
        if request_id and request_id not in self.request_ids:
            self.request_ids.append(request_id)

    def record_exchange(self, summary: str, rendered: str, request_id: str | None) -> None:
        """One HTTP exchange: a (zero-length) report step, the rendering, the request id."""
        self.note_request_id(request_id)
        self._probe_faults(summary)
        with allure.step(summary):
            pass
        self.exchanges.append(rendered)

    def _probe_faults(self, before: str) -> None:
        if self.fault_probe is None:
            return
        try:
            faults = self.fault_probe()
        except Exception as exc:  # noqa: BLE001 - a report detail must not fail the test
            faults = [f"(could not read the faults in force: {exc})"]
        if faults != self._last_faults:
            stamp = time.strftime("%H:%M:%S", time.localtime()) + f".{int(time.time() * 1000) % 1000:03d}"
            what = "\n".join(f"    {line}" for line in faults) or "    (none)"
            self.fault_timeline.append(f"{stamp} before {before}:\n{what}")
            if self._last_faults is not None or faults:
                # A step where the faults changed: "applied" / "removed" in the test's story.
                shown = "; ".join(faults[:3]) + (f" (+{len(faults) - 3})" if len(faults) > 3 else "")
                with allure.step(f"faults in force: {shown}" if faults else "no fault in force"):
                    pass
            self._last_faults = faults


_CURRENT: ContextVar[TestTrace | None] = ContextVar("crashcart_test_trace", default=None)


def current() -> TestTrace | None:
    return _CURRENT.get()


def note_request_id(request_id: str | None) -> None:
    """For helpers with their own clients: remember a request id the test used."""
    trace = current()
    if trace is not None:
        trace.note_request_id(request_id)


@contextmanager
def tracing(fault_probe: Callable[[], list[str]] | None = None) -> Iterator[TestTrace]:
    trace = TestTrace(fault_probe=fault_probe)
    token = _CURRENT.set(trace)
    try:
        yield trace
    finally:
        _CURRENT.reset(token)
