"""The request id of the work in progress, carried in a contextvar.

Set by the HTTP middleware (from `X-Request-ID` or freshly generated) and by the consumers
(from the AMQP `x-request-id` header); read by logs, outgoing HTTP calls and published events,
so one id follows a checkout across every hop.
"""

from __future__ import annotations

import re
import uuid
from contextvars import ContextVar

HEADER = "x-request-id"
_VALID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)


def new_request_id() -> str:
    return uuid.uuid4().hex


def accept_request_id(candidate: str | None) -> str:
    """Keep a caller's id when it is a sane token, otherwise mint a new one (no log injection)."""
    if candidate and _VALID.match(candidate):
        return candidate
    return new_request_id()


def current_request_id() -> str | None:
    return request_id_var.get()
