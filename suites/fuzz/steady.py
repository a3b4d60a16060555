"""Fuzz only a quiet platform: no fault injected, every service ready, every breaker closed.

A Schemathesis run flags any 5xx (`not_a_server_error`). A run that starts while a chaos test
still holds a toxic, or while order-service's circuit breaker is still open after one, would
report the fault instead of the contract. Waiting for the steady state (bounded) keeps the
suite about the documents; a platform that never settles fails the test with the reason.
"""

from __future__ import annotations

import re
import time
from typing import Any

import httpx

from suites.helpers.waiting import poll_until

# svckit.breaker: a breaker re-admits a trial call this long after opening (reset_timeout_s).
BREAKER_RESET_S = 5.0
_OPEN_BREAKER = re.compile(r'^crashcart_circuit_breaker_state\{dependency="([^"]+)"\} [12]',
                           re.MULTILINE)


def unsteady_reasons(platform: Any) -> list[str]:
    """Why the platform is not in its steady state (empty when it is)."""
    reasons: list[str] = []
    try:
        proxies = httpx.get(f"{platform.toxiproxy_url}/proxies", timeout=5.0).json()
        for name, proxy in proxies.items():
            if not proxy.get("enabled", True):
                reasons.append(f"proxy {name} is disabled")
            if proxy.get("toxics"):
                reasons.append(f"proxy {name} has toxics {[t['name'] for t in proxy['toxics']]}")
        health = httpx.get(f"{platform.gateway_url}/health", timeout=5.0).json()
        for service, answer in health.get("services", {}).items():
            if answer.get("status") != "ok":
                reasons.append(f"{service} is not ready: {answer}")
    except (httpx.HTTPError, ValueError) as exc:
        reasons.append(f"platform unreachable: {exc!r}")
    return reasons


def open_breakers(platform: Any) -> list[str]:
    """`service->dependency` for every circuit breaker not closed (from /metrics)."""
    found = []
    for service, url in platform.service_urls.items():
        try:
            text = httpx.get(f"{url}/metrics", timeout=5.0).text
        except httpx.HTTPError:
            continue
        found += [f"{service}->{dep}" for dep in _OPEN_BREAKER.findall(text)]
    return found


def wait_for_steady_state(platform: Any, *, timeout_s: float = 60.0) -> None:
    """Block until the platform is quiet; raise AssertionError with the reasons otherwise."""
    reasons = poll_until(lambda: unsteady_reasons(platform), lambda found: not found,
                         timeout=timeout_s, max_interval=0.5)
    assert not reasons, "platform not in its steady state: " + "; ".join(reasons)
    if open_breakers(platform):
        # An open breaker only moves on at its next call after the reset timeout; by then
        # the (clean) mesh lets that trial call succeed and close it.
        time.sleep(BREAKER_RESET_S + 0.5)
