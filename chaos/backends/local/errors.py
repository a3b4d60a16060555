"""Errors of the local backend; their messages are meant for a human at a terminal."""

from __future__ import annotations


class PlatformError(RuntimeError):
    """Bringing the platform up or down failed; the message says what to do."""


class PreflightError(PlatformError):
    """A prerequisite is missing (database, broker, nginx, a free port)."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("preflight failed:\n" + "\n".join(f"  - {p}" for p in problems))


class ComponentFailed(PlatformError):
    """One component did not start or become ready; carries the tail of its log."""

    def __init__(self, component: str, reason: str, log_tail: str = "") -> None:
        self.component = component
        self.reason = reason
        self.log_tail = log_tail
        message = f"{component}: {reason}"
        if log_tail:
            message += f"\n--- last lines of the {component} log ---\n{log_tail}"
        super().__init__(message)
