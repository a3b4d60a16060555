"""Readiness tells the truth: with a service's database or broker edge cut, its
``/health/ready`` (direct) and the gateway's ``/health`` say so within seconds, and
recover when the edge returns. :class:`ReadinessSampler` records both during a run."""

from __future__ import annotations

import threading
import time
from typing import Any, ClassVar

import httpx

from chaos.invariants.base import CheckContext, FaultWindow, ReadinessSample, register
from chaos.topology import BROKER, DB, Topology

CHECK_OF = {DB: "database", BROKER: "broker"}


class ReadinessSampler:
    """One thread per target polls its readiness every ``interval_s`` (direct, no mesh)."""

    def __init__(self, topology: Topology, *, interval_s: float = 0.3,
                 timeout_s: float = 2.0) -> None:
        self.targets = {name: f"{url}/health/ready"
                        for name, url in topology.service_urls.items()}
        self.targets["gateway"] = f"{topology.gateway_url}/health"
        self.interval_s = interval_s
        self.timeout_s = timeout_s
        self.samples: list[ReadinessSample] = []
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> ReadinessSampler:
        for target, url in self.targets.items():
            thread = threading.Thread(target=self._poll, args=(target, url), daemon=True,
                                      name=f"readiness-{target}")
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self) -> list[ReadinessSample]:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=self.timeout_s + 2)
        return sorted(self.samples, key=lambda s: s.at)

    def await_recovery(self, windows: list[FaultWindow], topology: Topology,
                       recover_s: float, *, poll_s: float = 0.1) -> float:
        """Keep sampling until every service whose db or broker edge was cut, and the
        gateway's view of it, has answered ready after its window closed, or until the
        recovery bound has passed; returns the seconds waited.

        Stopping as soon as the checkout path recovers would judge a slower but healthy
        readiness (a broker reconnect backing off for 2 s) on missing samples."""
        began = time.monotonic()
        pending = [(service, window.removed_at) for window, _, service, _ in
                   cut_checks(windows, topology) if window.removed_at is not None]
        if not pending:
            return 0.0
        deadline = max(removed_at for _, removed_at in pending) + recover_s
        while time.time() < deadline and not self._stop.is_set():
            samples = list(self.samples)
            if all(_recovered(samples, service, since) for service, since in pending):
                break
            self._stop.wait(poll_s)
        return time.monotonic() - began

    def _poll(self, target: str, url: str) -> None:
        with httpx.Client(timeout=self.timeout_s) as client:
            while not self._stop.is_set():
                at = time.time()
                try:
                    answer = client.get(url)
                    body = answer.json() if answer.content else {}
                    status = answer.status_code
                except (httpx.HTTPError, ValueError):
                    status, body = 0, {}
                self.samples.append(ReadinessSample(at=at, target=target, status=status,
                                                    body=body if isinstance(body, dict) else {}))
                self._stop.wait(self.interval_s)


def cut_checks(windows: list[FaultWindow], topology: Topology
               ) -> list[tuple[FaultWindow, str, str, str]]:
    """``(window, proxy, service, check)`` for every db or broker edge of a service a
    window cut (``order_to_db`` → ``order``, ``database``)."""
    found = []
    for window in windows:
        for proxy in window.cuts:
            service, _, target = proxy.partition("_to_")
            if target in CHECK_OF and service in topology.services:
                found.append((window, proxy, service, CHECK_OF[target]))
    return found


def _service_ready_at(samples: list[ReadinessSample], service: str,
                     since: float) -> float | None:
    """When the service first answered ready at or after ``since``."""
    return next((s.at for s in samples if s.target == service and s.at >= since
                 and s.status == 200), None)


def _gateway_ok_at(samples: list[ReadinessSample], service: str, since: float) -> float | None:
    """When the gateway's /health first showed the service ok at or after ``since``."""
    return next((s.at for s in samples if s.target == "gateway" and s.at >= since
                 and _gateway_state(s, service) == "ok"), None)


def _recovered(samples: list[ReadinessSample], service: str, since: float) -> bool:
    return _service_ready_at(samples, service, since) is not None and \
        _gateway_ok_at(samples, service, since) is not None


def _service_says_down(sample: ReadinessSample, check: str) -> bool:
    checks = sample.body.get("checks", {})
    return sample.status != 200 and (checks.get(check) == "down" or sample.status == 0)


def _gateway_state(sample: ReadinessSample, service: str) -> str:
    return str(sample.body.get("services", {}).get(service, {}).get("status", "?"))


@register
class ReadinessTruthful:
    name: ClassVar[str] = "readiness_truthful"
    guards: ClassVar[str] = ("with a service's db or broker edge cut, its /health/ready and the "
                             "gateway's /health say so within seconds and recover after")
    reads: ClassVar[tuple[str, ...]] = ("<svc> /health/ready (direct)", "gateway /health")

    def evaluate(self, ctx: CheckContext) -> tuple[list[str], dict[str, Any]]:
        breaches: list[str] = []
        details: dict[str, Any] = {}
        detect, recover = ctx.bounds.readiness_detect_s, ctx.bounds.readiness_recover_s
        last_at = max((s.at for s in ctx.readiness), default=0.0)
        for window, proxy, service, check in cut_checks(ctx.windows, ctx.topology):
            own = [s for s in ctx.readiness if s.target == service]
            gate = [s for s in ctx.readiness if s.target == "gateway"]
            end = window.removed_at or last_at
            row: dict[str, Any] = {}
            details[f"{proxy} ({window.description})"] = row
            if end - window.applied_at >= detect:
                seen = next((s.at for s in own if window.applied_at <= s.at <= end
                             and _service_says_down(s, check)), None)
                row["service_detected_after_s"] = _after(seen, window.applied_at)
                if seen is None or seen - window.applied_at > detect:
                    last = [s for s in own if window.applied_at <= s.at <= end]
                    shown = f"{last[-1].status} {last[-1].body}" if last else "no sample"
                    breaches.append(f"{service} /health/ready did not report {check} down "
                                    f"within {detect:.0f}s of cutting {proxy} "
                                    f"(last: {shown})")
                gseen = next((s.at for s in gate if window.applied_at <= s.at <= end
                              and _gateway_state(s, service) != "ok"), None)
                row["gateway_detected_after_s"] = _after(gseen, window.applied_at)
                if gseen is None or gseen - window.applied_at > detect:
                    breaches.append(f"gateway /health still showed {service} ok "
                                    f"{detect:.0f}s after cutting {proxy}")
            if window.removed_at is None:
                continue
            back = _service_ready_at(own, service, window.removed_at)
            row["service_recovered_after_s"] = _after(back, window.removed_at)
            if back is None or back - window.removed_at > recover:
                breaches.append(f"{service} /health/ready not ready again within "
                                f"{recover:.0f}s of restoring {proxy}")
            gback = _gateway_ok_at(gate, service, window.removed_at)
            row["gateway_recovered_after_s"] = _after(gback, window.removed_at)
            if gback is None or gback - window.removed_at > recover:
                breaches.append(f"gateway /health did not show {service} ok within "
                                f"{recover:.0f}s of restoring {proxy}")
        return breaches, details


def _after(at: float | None, since: float) -> float | None:
    return None if at is None else round(at - since, 3)
