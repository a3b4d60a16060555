"""Login brute-force protection: failures are throttled per account and per client with a
429 problem and `Retry-After`; successful logins are never throttled (issue 11: 200 wrong
passwords used to answer 401 in ~15 ms each, then the right one worked).

Per account on the shared platform (a fresh account per test, so nothing else is locked).
Per client on a copy of user-service with tiny limits: the shared platform's client budget
(1000 failures, 5/s back) is sized so the fuzzer's failed logins from 127.0.0.1 fit in it.
The state is in user-service's database: two processes on one database share it, and a
restarted process still refuses what was locked before.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from suites.fuzz.service_copy import ServiceCopy, copy_database, copy_platform, run_service_copy
from suites.helpers import factories
from suites.helpers.problems import assert_problem

pytestmark = [pytest.mark.platform]

FREE_FAILURES = 5
LOGIN = "/api/v1/users/login"


def _login(client: httpx.Client, email: str, password: str,
           client_ip: str | None = None) -> httpx.Response:
    headers = {"X-Real-IP": client_ip} if client_ip else {}
    return client.post(LOGIN, json={"email": email, "password": password}, headers=headers)


def _assert_throttled(answer: httpx.Response) -> int:
    assert_problem(answer, 429)
    retry_after = int(answer.headers["Retry-After"])
    assert retry_after >= 1
    return retry_after


def test_an_account_is_locked_after_repeated_failures_even_for_the_right_password(
        api: httpx.Client, new_account: Callable[[], factories.Account]) -> None:
    account = new_account()
    for _ in range(FREE_FAILURES):
        assert_problem(_login(api, account.email, "wrong-password-1"), 401)
    retry_after = _assert_throttled(_login(api, account.email, account.password))
    time.sleep(retry_after + 0.2)
    assert _login(api, account.email, account.password).status_code == 200
    # A success clears the count: the next failure is a plain 401 again.
    assert_problem(_login(api, account.email, "wrong-password-2"), 401)


def test_the_lock_grows_with_each_further_failure(
        api: httpx.Client, new_account: Callable[[], factories.Account]) -> None:
    account = new_account()
    for _ in range(FREE_FAILURES):
        _login(api, account.email, "wrong-password")
    waits = []
    for _ in range(3):
        waits.append(_assert_throttled(_login(api, account.email, "wrong-password")))
        time.sleep(waits[-1] + 0.2)
        assert_problem(_login(api, account.email, "wrong-password"), 401)
    assert waits == sorted(waits) and waits[-1] > waits[0], waits


def test_unknown_emails_are_throttled_like_known_ones(api: httpx.Client) -> None:
    """Otherwise the 429 itself would tell which emails are registered."""
    email = factories.unique_email("nobody")
    for _ in range(FREE_FAILURES):
        assert_problem(_login(api, email, "whatever-1"), 401)
    _assert_throttled(_login(api, email, "whatever-1"))


def test_successful_logins_are_never_throttled(
        api: httpx.Client, new_account: Callable[[], factories.Account]) -> None:
    account = new_account()
    for _ in range(3 * FREE_FAILURES):
        assert _login(api, account.email, account.password).status_code == 200


@pytest.fixture(scope="module")
def strict_user_service(running_platform: Any,
                        tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceCopy]:
    """user-service (unpatched copy) with a per-client budget of 8 failures, 1 back per 5 s (the 8
    failures must fit in those 5 s also on a loaded machine)."""
    work = tmp_path_factory.mktemp("strict-user")
    root = copy_platform(work)
    env = {"LOGIN_CLIENT_FAILURE_BURST": "8", "LOGIN_CLIENT_FAILURES_PER_S": "0.2",
           "LOGIN_ACCOUNT_FREE_FAILURES": "100", "PASSWORD_SCRYPT_N": "1024"}
    with run_service_copy(running_platform.topology, "user", root, Path(work), env=env) as copy:
        yield copy


def test_a_client_spraying_many_accounts_is_throttled_alone(
        strict_user_service: ServiceCopy) -> None:
    attacker, bystander = "198.51.100.7", "198.51.100.8"
    with httpx.Client(base_url=strict_user_service.url, timeout=15.0) as client:
        assert factories.register(client, email="sprayed@example.com").status_code == 201
        for n in range(8):
            assert_problem(_login(client, f"spray-{n}@example.com", "guess-123", attacker), 401)
        retry_after = _assert_throttled(
            _login(client, "sprayed@example.com", factories.DEFAULT_PASSWORD, attacker))
        assert retry_after <= 5
        # Another client is not affected, and neither is the account itself.
        assert _login(client, "sprayed@example.com", factories.DEFAULT_PASSWORD,
                      bystander).status_code == 200
        time.sleep(retry_after + 0.2)
        assert _login(client, "sprayed@example.com", factories.DEFAULT_PASSWORD,
                      attacker).status_code == 200


def test_successes_do_not_use_the_client_budget(strict_user_service: ServiceCopy) -> None:
    with httpx.Client(base_url=strict_user_service.url, timeout=15.0) as client:
        emails = [factories.unique_email("many") for _ in range(12)]
        for email in emails:
            assert factories.register(client, email=email).status_code == 201
        for email in emails * 2:
            assert _login(client, email, factories.DEFAULT_PASSWORD,
                          "198.51.100.9").status_code == 200


def test_the_throttle_holds_across_worker_processes_and_a_restart(
        running_platform: Any, tmp_path: Path) -> None:
    """Two user-service processes on one database (as uvicorn workers would be), then both
    stopped and a new one started: failures counted by one are seen by the other, and the
    locks outlive the processes. In-memory state would give each worker its own budget and
    every restart a fresh one."""
    root = copy_platform(tmp_path)
    env = {"LOGIN_ACCOUNT_FREE_FAILURES": "3", "LOGIN_CLIENT_FAILURE_BURST": "6",
           "LOGIN_CLIENT_FAILURES_PER_S": "0.05", "PASSWORD_SCRYPT_N": "1024"}
    topology = running_platform.topology
    account, sprayer = "restart-victim@example.com", "198.51.100.21"
    with copy_database(topology, "user") as database:
        with (run_service_copy(topology, "user", root, tmp_path, env=env,
                               database=database) as first,
              run_service_copy(topology, "user", root, tmp_path, env=env,
                               database=database) as second,
              httpx.Client(base_url=first.url, timeout=15.0) as one,
              httpx.Client(base_url=second.url, timeout=15.0) as two):
            assert factories.register(one, email=account).status_code == 201
            # Per account: three free failures split over both processes, then locked in both.
            for client in (one, two, one):
                assert_problem(_login(client, account, "wrong-password", "198.51.100.20"), 401)
            _assert_throttled(_login(two, account, factories.DEFAULT_PASSWORD, "198.51.100.22"))
            # Per client: six failures over both processes empty the bucket (1 back per 20 s).
            for n in range(6):
                answer = _login((one, two)[n % 2], f"spray-{n}@example.com", "guess", sprayer)
                assert_problem(answer, 401)
            _assert_throttled(_login(one, account, factories.DEFAULT_PASSWORD, sprayer))
        # Both processes are gone; a new one on the same database still refuses the client.
        with (run_service_copy(topology, "user", root, tmp_path, env=env,
                               database=database) as restarted,
              httpx.Client(base_url=restarted.url, timeout=15.0) as three):
            retry_after = _assert_throttled(
                _login(three, "someone-else@example.com", "guess", sprayer))
            assert retry_after <= 20
            assert _login(three, account, factories.DEFAULT_PASSWORD,
                          "198.51.100.23").status_code == 200
