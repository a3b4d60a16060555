"""Which Toxiproxy to use: a configured URL, else a real binary, else the embedded server.

Order (first that applies wins):

1. ``url`` argument, else the ``TOXIPROXY_URL`` environment variable → use that
   running server (kind ``"url"``; nothing to launch).
2. ``toxiproxy-server`` on ``PATH`` → the real Go server (kind ``"binary"``).
3. otherwise the embedded Python server, ``python -m chaos.toxiproxy`` (kind ``"embedded"``).

``ServerChoice.command(host, port)`` gives the argv to launch kinds 2 and 3 (both take the
same flags); ``url`` is where the server answers (for 2 and 3: ``http://127.0.0.1:8474``
unless other host/port are passed to :func:`resolve_server`).
"""

from __future__ import annotations

import os
import shutil
import sys
from dataclasses import dataclass
from typing import Literal

ENV_URL = "TOXIPROXY_URL"
BINARY = "toxiproxy-server"

Kind = Literal["url", "binary", "embedded"]


@dataclass(frozen=True, slots=True)
class ServerChoice:
    kind: Kind
    url: str
    """Base URL of the admin API, e.g. ``http://127.0.0.1:8474``."""
    executable: str | None = None
    """Path of the real binary (kind ``binary``)."""

    def command(self, host: str = "127.0.0.1", port: int = 8474, *extra: str) -> list[str] | None:
        """argv that starts this server, or None for kind ``url`` (already running)."""
        if self.kind == "url":
            return None
        base = [self.executable] if self.kind == "binary" and self.executable else [
            sys.executable, "-m", "chaos.toxiproxy"
        ]
        return [*base, "-host", host, "-port", str(port), *extra]

    @property
    def needs_launch(self) -> bool:
        return self.kind != "url"


def resolve_server(url: str | None = None, *, host: str = "127.0.0.1", port: int = 8474) -> ServerChoice:
    """Apply the selection order above (the environment is read at call time)."""
    configured = url or os.environ.get(ENV_URL)
    if configured:
        return ServerChoice(kind="url", url=configured.rstrip("/"))
    local = f"http://{host}:{port}"
    binary = shutil.which(BINARY)
    if binary:
        return ServerChoice(kind="binary", url=local, executable=binary)
    return ServerChoice(kind="embedded", url=local)
