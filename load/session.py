"""A buyer's session as a real client keeps it: one token reused, renewed on 401, and
checkouts that retry a network error with the same Idempotency-Key.

Why a module of its own: the journeys describe *what* a shopper does; how a client talks to
the API (auth, route names in the statistics, retry rules) is one policy for all of them.
Request names are route templates (``/api/v1/orders/{id}``) so Locust groups by route.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import gevent

from load.data import Buyer, idempotency_key

if TYPE_CHECKING:
    from locust.contrib.fasthttp import FastHttpSession, FastResponse, ResponseContextManager

RETRYABLE = frozenset({0, 502, 503, 504})
"""Status codes after which a client may repeat a checkout (0: no answer, a network error)."""
TERMINAL = frozenset({"PAID", "PAYMENT_FAILED", "REJECTED"})
SAGA = "SAGA"
"""request_type of the saga's accept → terminal entries in Locust's statistics."""


class SagaIncomplete(Exception):
    """The order did not reach the expected terminal state within the polling bound."""


class BuyerSession:
    """Register once, log in, keep the token; log in again when the API answers 401."""

    def __init__(self, client: FastHttpSession, buyer: Buyer) -> None:
        self.client = client
        self.buyer = buyer
        self.token: str | None = None
        self.registered = False

    # ---- auth ------------------------------------------------------------------------------
    def ensure(self) -> bool:
        """Registered and logged in (a failed attempt is retried at the next call)."""
        if not self.registered:
            body = {"email": self.buyer.email, "password": self.buyer.password,
                    "name": self.buyer.name}
            # 409: an earlier attempt whose answer was lost did register
            self.registered = self._post_retrying("/api/v1/users", body, "registration",
                                                  ok=(201, 409)) is not None
            if not self.registered:
                return False
        if self.token is None:
            self.login()
        return self.token is not None

    def login(self) -> None:
        body = {"email": self.buyer.email, "password": self.buyer.password}
        answer = self._post_retrying("/api/v1/users/login", body, "login", ok=(200,))
        self.token = answer["access_token"] if answer else None

    def _post_retrying(self, path: str, body: dict[str, Any], what: str, *,
                       ok: tuple[int, ...], attempts: int = 3,
                       backoff_s: float = 0.2) -> dict[str, Any] | None:
        """POST, retried on no answer or 502/503/504 (these calls are safe to repeat)."""
        for attempt in range(1, attempts + 1):
            with self.client.post(path, json=body, name=path, catch_response=True) as response:
                if response.status_code in ok:
                    response.success()
                    try:
                        return dict(response.json())
                    except ValueError:
                        return {}
                _fail(response, what)
                if response.status_code not in RETRYABLE:
                    return None
            gevent.sleep(backoff_s * 2 ** (attempt - 1))
        return None

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    # ---- calls -----------------------------------------------------------------------------
    def get_json(self, path: str, name: str) -> Any | None:
        """GET with the token; a 401 renews the token and repeats once. None on failure."""
        for attempt in (1, 2):
            with self.client.get(path, headers=self.headers(), name=name,
                                 catch_response=True) as response:
                if response.status_code == 200:
                    return response.json()
                if response.status_code == 401 and attempt == 1:
                    response.success()  # an expired token is a protocol step, not an error
                    self.login()
                    continue
                _fail(response, "GET")
                return None
        return None

    def place_order(self, items: list[dict[str, int]], payment_token: str, *,
                    attempts: int = 3, backoff_s: float = 0.2) -> dict[str, Any] | None:
        """POST /orders with one Idempotency-Key for this checkout, reused on every retry."""
        key = idempotency_key()
        body = {"items": items, "payment_token": payment_token}
        for attempt in range(1, attempts + 1):
            headers = {**self.headers(), "Idempotency-Key": key}
            with self.client.post("/api/v1/orders", json=body, headers=headers,
                                  name="/api/v1/orders", catch_response=True) as response:
                status = response.status_code
                if status in (200, 202):
                    return response.json()
                if status == 401:
                    response.success()
                    self.login()
                    continue
                _fail(response, "checkout")
                if status not in RETRYABLE:
                    return None
            gevent.sleep(backoff_s * 2 ** (attempt - 1))
        return None

    def follow_order(self, order: dict[str, Any], accepted_at: float, expected: str, *,
                     timeout_s: float, poll_interval_s: float) -> str | None:
        """Poll the order until it is terminal (bounded) and report accept → terminal.

        The time is reported as its own statistics entry (``SAGA checkout accept→<expected>``)
        through the request event, so the UI, the CSV and the gates see it beside the routes.
        """
        status = order["status"]
        deadline = accepted_at + timeout_s
        while status not in TERMINAL and time.monotonic() < deadline:
            gevent.sleep(poll_interval_s)
            polled = self.get_json(f"/api/v1/orders/{order['id']}", "/api/v1/orders/{id}")
            if polled is not None:
                status = polled["status"]
        elapsed_ms = (time.monotonic() - accepted_at) * 1000
        exception: Exception | None = None
        if status not in TERMINAL:
            exception = SagaIncomplete(f"order still {status} after {timeout_s:.0f} s")
        elif status != expected:
            exception = SagaIncomplete(f"order ended {status}, expected {expected}")
        self.client.request_event.fire(
            request_type=SAGA, name=saga_entry(expected), response_time=elapsed_ms,
            response_length=0, exception=exception, context={}, response=None, url=None,
            start_time=time.time() - elapsed_ms / 1000)
        return status if status in TERMINAL else None


def saga_entry(outcome: str) -> str:
    """The statistics name of the saga's accept → ``outcome`` time."""
    return f"checkout accept→{outcome}"


def _fail(response: ResponseContextManager | FastResponse, what: str) -> None:
    status = response.status_code
    error = getattr(response, "error", None)
    message = f"{what}: no answer ({error})" if status == 0 else f"{what}: HTTP {status}"
    failure = getattr(response, "failure", None)
    if failure is not None:
        failure(message)
