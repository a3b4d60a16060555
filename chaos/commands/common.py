"""What the ``crashcart chaos`` actions share: SIGTERM handled as Ctrl-C (so the rollbacks
run), usage errors on stderr with the command's name, and "load a journal or exit 2"."""

from __future__ import annotations

import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from chaos.matrix.replay import Recorded

USAGE = 2


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
