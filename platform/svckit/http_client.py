"""Resilient HTTP calls to another service: timeout, retries with backoff + jitter, breaker.

One shared `aiohttp.ClientSession` per dependency keeps connections alive (aiohttp, not
httpx: a call costs about a third of httpx's CPU, and order-service makes two per order —
docs/performance.md). Only idempotent GETs are retried. A refused/broken connection, a 5xx
or an open breaker answers 503 problem+json, a timeout answers 504 — fast, never hanging
the caller's request.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass
from typing import Any

import aiohttp
from tenacity import (
    AsyncRetrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential_jitter,
)

from svckit.breaker import CircuitBreaker, CircuitOpenError
from svckit.metrics import DEPENDENCY_CALLS
from svckit.problems import Problem
from svckit.request_id import HEADER as REQUEST_ID_HEADER
from svckit.request_id import current_request_id
from svckit.settings import ServiceSettings

log = logging.getLogger("svckit.http_client")


class DependencyUnavailable(Problem):
    def __init__(self, dependency: str, why: str, *, retry_after_s: int | None = None) -> None:
        headers = {"Retry-After": str(retry_after_s)} if retry_after_s else None
        super().__init__(503, f"{dependency}-service unavailable: {why}", headers=headers)
        self.dependency = dependency


class DependencyTimeout(Problem):
    def __init__(self, dependency: str) -> None:
        super().__init__(504, f"{dependency}-service did not answer in time")
        self.dependency = dependency


class _Retryable(Exception):
    def __init__(self, timeout: bool, why: str) -> None:
        super().__init__(why)
        self.timeout = timeout


@dataclass(frozen=True, slots=True)
class DependencyResponse:
    """A dependency's answer, read in full before the connection went back to the pool."""

    status_code: int
    content: bytes

    def json(self) -> Any:
        """The body as JSON (`ValueError` if it is not JSON)."""
        return json.loads(self.content)


class ServiceClient:
    """Calls to one dependency (e.g. `user`) through its own breaker."""

    def __init__(self, dependency: str, base_url: str, settings: ServiceSettings) -> None:
        self.dependency = dependency
        self.base_url = base_url
        self.attempts = settings.http_attempts
        self.budget_s = settings.http_budget_s
        self.breaker = CircuitBreaker(
            dependency,
            failure_threshold=settings.breaker_failure_threshold,
            reset_timeout_s=settings.breaker_reset_timeout_s,
        )
        timeout = settings.http_timeout_s
        self.timeout = aiohttp.ClientTimeout(total=timeout, sock_connect=min(1.0, timeout))
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        """The session, made on first use: aiohttp binds it to the running event loop."""
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                self.base_url,
                timeout=self.timeout,
                connector=aiohttp.TCPConnector(limit=100, keepalive_timeout=30),
                auto_decompress=False,
            )
        return self._session

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def get(self, path: str) -> DependencyResponse:
        """GET with retries; returns any non-5xx response (404 is the caller's business).

        The whole call, retries and backoff included, is bounded by ``http_budget_s``.
        """
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self.attempts),
            wait=wait_exponential_jitter(multiplier=0.05, max=0.5, jitter=0.05),
            retry=retry_if_exception_type(_Retryable),
            reraise=True,
        )
        try:
            async with asyncio.timeout(self.budget_s):
                async for attempt in retrying:
                    with attempt:
                        return await self._once(path)
        except TimeoutError as exc:
            DEPENDENCY_CALLS.labels(self.dependency, "budget_exceeded").inc()
            raise DependencyTimeout(self.dependency) from exc
        except _Retryable as exc:
            if exc.timeout:
                raise DependencyTimeout(self.dependency) from exc
            raise DependencyUnavailable(self.dependency, str(exc)) from exc
        raise AssertionError("unreachable")  # pragma: no cover

    async def _once(self, path: str) -> DependencyResponse:
        try:
            self.breaker.before_call()
        except CircuitOpenError as exc:
            DEPENDENCY_CALLS.labels(self.dependency, "breaker_open").inc()
            raise DependencyUnavailable(
                self.dependency, "circuit open",
                retry_after_s=max(1, int(self.breaker.reset_timeout_s)),
            ) from exc
        headers = {REQUEST_ID_HEADER: current_request_id() or ""}
        try:
            async with self._client().get(path, headers=headers,
                                          allow_redirects=False) as answer:
                response = DependencyResponse(answer.status, await answer.read())
        except asyncio.CancelledError:
            self.breaker.abandon()  # a half-open trial cut short must not block later trials
            raise
        except TimeoutError as exc:  # aiohttp's connect and read timeouts are TimeoutErrors
            self._failed("timeout")
            raise _Retryable(True, f"timeout ({type(exc).__name__})") from exc
        except aiohttp.ClientError as exc:
            self._failed("connection_error")
            raise _Retryable(False, f"connection failed ({type(exc).__name__})") from exc
        if response.status_code >= 500:
            self._failed(f"http_{response.status_code}")
            raise _Retryable(response.status_code == 504, f"answered {response.status_code}")
        self.breaker.record_success()
        DEPENDENCY_CALLS.labels(self.dependency, "ok").inc()
        return response

    def _failed(self, outcome: str) -> None:
        self.breaker.record_failure()
        DEPENDENCY_CALLS.labels(self.dependency, outcome).inc()
        log.warning("call to %s failed: %s", self.dependency, outcome)
