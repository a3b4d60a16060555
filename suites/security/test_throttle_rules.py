"""The login throttle's rules on a fake clock (user_service.throttle, no platform needed)."""

from __future__ import annotations

from user_service.throttle import LoginThrottle, ThrottleSettings

SETTINGS = ThrottleSettings(account_free_failures=5, account_max_lock_s=900,
                            account_forget_s=900, client_failure_burst=10,
                            client_failures_per_s=1)


def fail(throttle: LoginThrottle, account: str, client: str, now: float) -> int:
    """One failed attempt; the wait it was told (0 if it was let through)."""
    return throttle.attempt(account, client, now)


def test_five_free_failures_then_a_doubling_lock_capped() -> None:
    throttle = LoginThrottle(SETTINGS)
    assert [fail(throttle, "a", f"c{n}", 0.0) for n in range(5)] == [0] * 5
    assert throttle.retry_after_s("a", "other", 0.0) == 1
    waits = []
    now = 0.0
    for _ in range(12):
        now += throttle.retry_after_s("a", "other", now)
        assert fail(throttle, "a", "other", now) == 0
        waits.append(throttle.retry_after_s("a", "other", now))
    assert waits[:4] == [2, 4, 8, 16] and max(waits) == 900


def test_a_success_clears_the_account_and_refunds_the_client() -> None:
    throttle = LoginThrottle(SETTINGS)
    for _ in range(4):
        fail(throttle, "a", "c", 0.0)
    assert throttle.attempt("a", "c", 0.0) == 0  # the right password, recorded in advance
    throttle.succeeded("a", "c")
    assert throttle.retry_after_s("a", "c", 0.0) == 0
    for _ in range(4):
        assert fail(throttle, "a", "c", 0.0) == 0


def test_the_client_bucket_refills_and_successes_never_drain_it() -> None:
    throttle = LoginThrottle(SETTINGS)
    for n in range(10):
        assert fail(throttle, f"acct{n}", "c", 0.0) == 0
    assert throttle.attempt("fresh", "c", 0.0) == 1
    assert throttle.attempt("fresh", "d", 0.0) == 0  # another client is not affected
    assert throttle.attempt("fresh2", "c", 1.0) == 0  # one failure back after 1 s
    for n in range(100):
        assert throttle.attempt(f"ok{n}", "e", 2.0) == 0
        throttle.succeeded(f"ok{n}", "e")


def test_an_idle_account_is_forgotten() -> None:
    throttle = LoginThrottle(SETTINGS)
    for _ in range(5):
        fail(throttle, "a", "c", 0.0)
    assert throttle.retry_after_s("a", "c", 2.0) == 0
    assert fail(throttle, "a", "c", 2.0) == 0  # failure 6: locked again for 2 s
    assert throttle.retry_after_s("a", "c", 2.0) == 2
    assert fail(throttle, "a", "c", 2.0 + 901) == 0  # forgotten: failure 1 of a new count
    assert throttle.retry_after_s("a", "c", 2.0 + 901) == 0
