"""The terminal side of ``crashcart run``: a live status line, and plain lines without a TTY.

Why: a run takes minutes; the person at the terminal wants the phase, the elapsed time and
passed/failed so far, and CI logs want a line per phase rather than redraws.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from rich.console import Console
from rich.live import Live
from rich.text import Text

from chaos.run.progress import Counts

HEARTBEAT_S = 30.0


def _clock(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes:02d}:{secs:02d}"


@dataclass(slots=True)
class Display:
    console: Console = field(default_factory=lambda: Console(highlight=False))
    started: float = field(default_factory=time.monotonic)
    phase: str = "starting"
    passed: int = 0
    failed: int = 0
    """Totals of the finished layers; the running layer's counts come in ``tick``."""
    _live: Live | None = None
    _last_line: float = 0.0
    _current: Counts | None = None

    def __enter__(self) -> Display:
        if self.console.is_terminal:
            # get_renderable: the clock keeps moving while a phase blocks (report, cleanup).
            self._live = Live(console=self.console, refresh_per_second=4, transient=True,
                              get_renderable=self._render)
            self._live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._live is not None:
            self._live.__exit__(None, None, None)
            self._live = None

    def note(self, line: str) -> None:
        """A permanent line (above the live status)."""
        self.console.print(f"[{_clock(time.monotonic() - self.started)}] {line}",
                           markup=False, soft_wrap=True)

    def set_phase(self, phase: str) -> None:
        self.phase = phase
        self._current = None
        self.note(phase)
        self._update()

    def tick(self, counts: Counts) -> None:
        self._current = counts
        self._update()
        if self._live is None and time.monotonic() - self._last_line >= HEARTBEAT_S:
            self._last_line = time.monotonic()
            self.note(self._status_text())

    def layer_done(self, passed: int, failed: int) -> None:
        self.passed += passed
        self.failed += failed
        self._current = None
        self._update()

    def _status_text(self) -> str:
        passed, failed = self.passed, self.failed
        extra = ""
        if self._current is not None:
            passed += self._current.passed
            failed += self._current.failed
            total = self._current.collected
            extra = f"  ({self._current.done}/{total} in this layer)" if total else ""
        return (f"{self.phase}  |  elapsed {_clock(time.monotonic() - self.started)}  |  "
                f"passed {passed}  failed {failed}{extra}")

    def _render(self) -> Text:
        text = Text(self._status_text(), style="bold")
        if self._current is not None and self._current.current:
            text.append(f"\n  last: {self._current.current}", style="dim")
        return text

    def _update(self) -> None:
        if self._live is not None:
            self._live.refresh()
