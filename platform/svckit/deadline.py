"""A deadline on every request: past it the client gets a 503 problem, never a hang.

Each dependency call is bounded (http_budget_s, db_command_timeout_s), but a request makes
several: with a slow database (1.5 s a round trip) placing an order took over 10 s, past the
gateway's upstream read timeout, so the gateway gave up first (found by the fault-fuzz
campaign, order_to_db latency). `REQUEST_DEADLINE_S` (below the gateway's read timeout)
bounds the whole request: the handler is cancelled (its transaction rolls back; an order
committed just before is found again by its Idempotency-Key) and the client is told 503 at
once with `Retry-After`, before the cancelled handler has finished cleaning up. A response
already started cannot be replaced and is left to finish. Health and metrics are exempt.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from svckit.problems import Problem

log = logging.getLogger("svckit.deadline")
_EXEMPT_PATHS = {"/metrics", "/health/live", "/health/ready"}


class RequestDeadlineMiddleware:
    """The deadline is a timer on the request's own task, not a second task per request
    (that task and its `asyncio.wait` were a few per cent of a polled GET's CPU): when it
    fires before the response has started, the 503 goes out from a task of its own and
    the request's task is cancelled, so the answer does not wait for the cleanup."""

    def __init__(self, app: ASGIApp, seconds: float) -> None:
        self.app = app
        self.seconds = seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in _EXEMPT_PATHS:
            await self.app(scope, receive, send)
            return
        request_task = asyncio.current_task()
        assert request_task is not None
        loop = asyncio.get_running_loop()
        started = False
        answer: asyncio.Task[None] | None = None

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if answer is not None:
                return  # the client already has its 503
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        def expire() -> None:
            nonlocal answer
            if started:
                return  # a response under way is left to finish
            answer = loop.create_task(self._answer_503(scope, receive, send))
            request_task.cancel()

        timer = loop.call_later(self.seconds, expire)
        try:
            await self.app(scope, receive, guarded_send)
        except BaseException:
            if answer is None:
                raise
        finally:
            timer.cancel()
        if answer is None:
            return
        if request_task.uncancel() > 0:
            raise asyncio.CancelledError  # cancelled by someone else as well: pass it on
        with contextlib.suppress(Exception):
            await answer

    async def _answer_503(self, scope: Scope, receive: Receive, send: Send) -> None:
        log.warning("request past its deadline of %.1f s: %s %s", self.seconds,
                    scope["method"], scope["path"])
        problem = Problem(503, f"The request did not complete within {self.seconds:g} s",
                          headers={"Retry-After": "1"})
        await problem.response()(scope, receive, send)
