"""Schemathesis hooks for the gateway-versus-direct differential run: the catalog mapping
plus the check `gateway_agrees_with_direct` (the base URL is the gateway; the service's own
URL comes from `CRASHCART_DIFF_DIRECT_URL`). Loaded with
`SCHEMATHESIS_HOOKS=chaos.fuzz.hooks_differential`.
"""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import urlsplit

import schemathesis

from chaos.fuzz.differential import comparable, differences, resend_direct
from chaos.fuzz.hooks_catalog import map_body  # noqa: F401 - registers the catalog hook


class _Flat:
    """A Schemathesis response seen through the attributes `differences` reads."""

    def __init__(self, response: Any) -> None:
        self.status_code = int(response.status_code)
        self.content = bytes(response.content or b"")
        self.headers = {k.lower(): (v[0] if isinstance(v, list) else v)
                        for k, v in response.headers.items()}


@schemathesis.check
def gateway_agrees_with_direct(ctx: Any, response: Any, case: Any) -> bool | None:
    request = response.request
    path = urlsplit(str(request.url)).path
    if not comparable(str(request.method), path, int(response.status_code)):
        return None
    parts = urlsplit(str(request.url))
    gateway_base = f"{parts.scheme}://{parts.netloc}"
    body = request.body if isinstance(request.body, bytes) else (
        request.body.encode() if isinstance(request.body, str) else None)
    direct = resend_direct(str(request.method), str(request.url), dict(request.headers), body,
                           gateway_base, os.environ["CRASHCART_DIFF_DIRECT_URL"].rstrip("/"))
    found = differences(_Flat(response), direct)
    if found:
        raise AssertionError("gateway and service disagree: " + "; ".join(found))
    return None
