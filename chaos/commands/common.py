"""What the ``crashcart chaos`` actions share: SIGTERM handled as Ctrl-C (so the rollbacks
run), usage errors on stderr with the command's name, "load a journal or exit 2", and "is
the platform there at all" before anything is injected."""

from __future__ import annotations

import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from chaos.faults import FaultContext
    from chaos.matrix.replay import Recorded

USAGE = 2
NOT_UP = 3
"""Exit status when the platform (gateway or Toxiproxy) does not answer: nothing was run."""


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def sigterm_as_interrupt() -> None:
    """A SIGTERM (a CI timeout, ``kill``) unwinds like Ctrl-C: rollbacks and partial results."""
    signal.signal(signal.SIGTERM, _interrupt)


def fail(command: str, message: str) -> None:
    print(f"crashcart chaos {command}: {message}", file=sys.stderr)


def load_journal_or_none(command: str, path: Path) -> Recorded | None:
    """The journal's experiment, or None after saying why on stderr (the caller exits 2)."""
    from chaos.matrix.replay import load_journal

    try:
        return load_journal(path)
    except (OSError, ValueError) as exc:
        fail(command, str(exc))
        return None


def platform_missing(command: str, ctx: FaultContext) -> bool:
    """Say on stderr and return True when the gateway or Toxiproxy does not answer at all.

    Without it every experiment (every cell of a matrix) waited out its steady-state probe
    and failed with "connection refused", ~30 s a cell. Any HTTP answer counts: a platform
    that is up but not ready is the steady-state probe's business."""
    import httpx

    for name, url in (("the gateway", f"{ctx.topology.gateway_url.rstrip('/')}/health"),
                      ("Toxiproxy", f"{ctx.toxiproxy_url.rstrip('/')}/version")):
        try:
            httpx.get(url, timeout=5.0)
        except httpx.HTTPError as exc:
            fail(command, f"{name} does not answer at {url} ({exc or type(exc).__name__}); "
                          "is the platform up? (`crashcart up`)")
            return True
    return False
