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
costs nothing and tells an attacker nothing), also for the right password.

The state lives in user-service's PostgreSQL database (migration 002_login_throttle), not in
process memory: every worker process of user-service shares it and a restart keeps it, else
an attacker would get N times the budget from N workers, and a fresh one after each restart.
The rules run in the database (`login_throttle_attempt`) as one atomic call on the database's
clock: one round trip per attempt, and no two workers can both slip past a lock.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime

import asyncpg


def _env_float(name: str, default: float) -> float:
    return float(os.environ.get(name, default))


@dataclass(frozen=True, slots=True)
class ThrottleSettings:
    account_free_failures: int = field(
        default_factory=lambda: int(_env_float("LOGIN_ACCOUNT_FREE_FAILURES", 5)))
    account_max_lock_s: float = field(
        default_factory=lambda: _env_float("LOGIN_ACCOUNT_MAX_LOCK_S", 900))
    account_forget_s: float = field(
        default_factory=lambda: _env_float("LOGIN_ACCOUNT_FORGET_S", 900))
    client_failure_burst: float = field(
        default_factory=lambda: _env_float("LOGIN_CLIENT_FAILURE_BURST", 1000))
    client_failures_per_s: float = field(
        default_factory=lambda: _env_float("LOGIN_CLIENT_FAILURES_PER_S", 5))


@dataclass(frozen=True, slots=True)
class LoginThrottle:
    """Decides whether a login attempt may proceed and records its outcome (in the database).

    `now` (tests only) replaces the database clock, so the rules can be checked on a fake one.
    """

    pool: asyncpg.Pool
    settings: ThrottleSettings = field(default_factory=ThrottleSettings)

    async def _call(self, account: str, client: str, record: bool,
                    now: datetime | None) -> int:
        s = self.settings
        wait = await self.pool.fetchval(
            "SELECT login_throttle_attempt($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            account, client, s.account_free_failures, s.account_max_lock_s,
            s.account_forget_s, s.client_failure_burst, s.client_failures_per_s, record, now)
        return int(wait)

    async def retry_after_s(self, account: str, client: str,
                            now: datetime | None = None) -> int:
        """Seconds the attempt must wait (0: go ahead), recording nothing."""
        return await self._call(account, client, False, now)

    async def attempt(self, account: str, client: str, now: datetime | None = None) -> int:
        """Check and, when allowed, record the attempt as a failure in advance (0 = allowed).

        Recording first means concurrent attempts cannot all slip past the check while their
        passwords are being hashed; `succeeded` takes the failure back.
        """
        return await self._call(account, client, True, now)

    async def succeeded(self, account: str, client: str) -> None:
        await self.pool.execute("SELECT login_throttle_succeeded($1, $2, $3)",
                                account, client, self.settings.client_failure_burst)
