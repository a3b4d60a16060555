"""Brute-force protection of the login: failed attempts throttled per account and per client.

Only failures count, so clients that log in a lot with correct credentials (load tests, the
harness, all from 127.0.0.1) are never slowed down.

- Per account (the normalised email, known or not): the first `LOGIN_ACCOUNT_FREE_FAILURES`
  failures are free; each further one locks the account for 1, 2, 4, ... seconds (capped at
  `LOGIN_ACCOUNT_MAX_LOCK_S`). A success clears the count; an idle account forgets it after
  `LOGIN_ACCOUNT_FORGET_S`.
- Per client (`X-Real-IP`, which the gateway always overwrites with the peer address, else the
  socket peer): a bucket of `LOGIN_CLIENT_FAILURE_BURST` failures refilled at
  `LOGIN_CLIENT_FAILURES_PER_S`; an empty bucket locks the client until one failure is back.

A locked attempt answers 429 with `Retry-After` before the password is even hashed (it
costs nothing and tells an attacker nothing), also for the right password. State is in
memory: user-service runs one process; a restart forgets it.
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass, field

_MAX_KEYS = 100_000


def _env_float(name: str, default: float) -> float:
    return float(os.environ.get(name, default))


@dataclass(frozen=True, slots=True)
class ThrottleSettings:
    account_free_failures: int = int(_env_float("LOGIN_ACCOUNT_FREE_FAILURES", 5))
    account_max_lock_s: float = _env_float("LOGIN_ACCOUNT_MAX_LOCK_S", 900)
    account_forget_s: float = _env_float("LOGIN_ACCOUNT_FORGET_S", 900)
    client_failure_burst: float = _env_float("LOGIN_CLIENT_FAILURE_BURST", 1000)
    client_failures_per_s: float = _env_float("LOGIN_CLIENT_FAILURES_PER_S", 5)


@dataclass(slots=True)
class _Account:
    failures: int = 0
    locked_until: float = 0.0
    last_failure: float = 0.0


@dataclass(slots=True)
class _Bucket:
    tokens: float
    updated: float


@dataclass(slots=True)
class LoginThrottle:
    """Decides whether a login attempt may proceed and records its outcome."""

    settings: ThrottleSettings = field(default_factory=ThrottleSettings)
    _accounts: dict[str, _Account] = field(default_factory=dict)
    _clients: dict[str, _Bucket] = field(default_factory=dict)

    def retry_after_s(self, account: str, client: str, now: float | None = None) -> int:
        """Seconds the attempt must wait (0: go ahead)."""
        now = time.monotonic() if now is None else now
        wait = 0.0
        state = self._accounts.get(account)
        if state is not None:
            wait = max(wait, state.locked_until - now)
        bucket = self._refilled(client, now)
        if bucket.tokens < 1:
            wait = max(wait, (1 - bucket.tokens) / self.settings.client_failures_per_s)
        return math.ceil(wait) if wait > 0 else 0

    def attempt(self, account: str, client: str, now: float | None = None) -> int:
        """Check and, when allowed, record the attempt as a failure in advance (0 = allowed).

        Recording first means concurrent attempts cannot all slip past the check while their
        passwords are being hashed; `succeeded` takes the failure back.
        """
        now = time.monotonic() if now is None else now
        wait = self.retry_after_s(account, client, now)
        if wait:
            return wait
        self._failed(account, client, now)
        return 0

    def succeeded(self, account: str, client: str) -> None:
        self._accounts.pop(account, None)
        bucket = self._clients.get(client)
        if bucket is not None:
            bucket.tokens = min(self.settings.client_failure_burst, bucket.tokens + 1)

    def _failed(self, account: str, client: str, now: float) -> None:
        s = self.settings
        state = self._accounts.get(account)
        if state is None or now - state.last_failure > s.account_forget_s:
            if len(self._accounts) >= _MAX_KEYS:
                self._prune(now)
            state = self._accounts[account] = _Account()
        state.failures += 1
        state.last_failure = now
        beyond = state.failures - s.account_free_failures
        if beyond >= 0:
            state.locked_until = now + min(2.0 ** beyond, s.account_max_lock_s)
        bucket = self._refilled(client, now)
        bucket.tokens -= 1

    def _refilled(self, client: str, now: float) -> _Bucket:
        s = self.settings
        bucket = self._clients.get(client)
        if bucket is None:
            if len(self._clients) >= _MAX_KEYS:
                self._prune(now)
            bucket = self._clients[client] = _Bucket(s.client_failure_burst, now)
        else:
            bucket.tokens = min(s.client_failure_burst,
                                bucket.tokens + (now - bucket.updated) * s.client_failures_per_s)
            bucket.updated = now
        return bucket

    def _prune(self, now: float) -> None:
        """Drop what no longer matters (bounded memory under a spray of new keys)."""
        s = self.settings
        self._accounts = {k: v for k, v in self._accounts.items()
                          if now - v.last_failure <= s.account_forget_s or v.locked_until > now}
        self._clients = {k: v for k, v in self._clients.items()
                         if v.tokens + (now - v.updated) * s.client_failures_per_s
                         < s.client_failure_burst}
