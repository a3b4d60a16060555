"""Process faults through the backend: kill, pause (SIGSTOP) and restart a component.

Undo brings the component back: a killed one is started again (and awaited ready), a
paused one resumed. Both checks are idempotent: starting a running component and resuming
a running one do nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from chaos.faults.base import FaultContext, register


@register
@dataclass(frozen=True, slots=True, kw_only=True)
class KillService:
    """SIGKILL a component's process group (a crash); undo starts it again."""

    kind: ClassVar[str] = "kill"
    service: str

    def apply(self, ctx: FaultContext) -> None:
        ctx.backend.kill_service(self.service)

    def undo(self, ctx: FaultContext) -> None:
        ctx.backend.start_service(self.service, wait=True)

    def describe(self) -> str:
        return f"kill {self.service}"


@register
@dataclass(frozen=True, slots=True, kw_only=True)
class PauseService:
    """SIGSTOP a component (sockets open, nothing answered: a hang); undo sends SIGCONT."""

    kind: ClassVar[str] = "pause"
    service: str

    def apply(self, ctx: FaultContext) -> None:
        ctx.backend.pause_service(self.service)

    def undo(self, ctx: FaultContext) -> None:
        ctx.backend.resume_service(self.service)

    def describe(self) -> str:
        return f"pause {self.service}"


@register
@dataclass(frozen=True, slots=True, kw_only=True)
class RestartService:
    """Graceful restart (TERM, start again); undo makes sure the component runs."""

    kind: ClassVar[str] = "restart"
    service: str
    wait_ready: bool = True

    def apply(self, ctx: FaultContext) -> None:
        ctx.backend.restart_service(self.service, wait=self.wait_ready)

    def undo(self, ctx: FaultContext) -> None:
        ctx.backend.start_service(self.service, wait=True)

    def describe(self) -> str:
        return f"restart {self.service}"
