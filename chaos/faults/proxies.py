"""Proxy down: an edge (or group) disabled — listener closed, live connections dropped."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from chaos.faults.base import FaultContext, register


@register
@dataclass(frozen=True, slots=True, kw_only=True)
class ProxyDown:
    """Cut ``edges`` (names or patterns): new connections refused until undone."""

    kind: ClassVar[str] = "proxy_down"
    edges: tuple[str, ...]

    def apply(self, ctx: FaultContext) -> None:
        for proxy in ctx.resolve_edges(self.edges):
            ctx.admin.set_enabled(proxy, False)

    def undo(self, ctx: FaultContext) -> None:
        for proxy in ctx.resolve_edges(self.edges):
            ctx.admin.set_enabled(proxy, True)

    def describe(self) -> str:
        return f"proxy_down on {', '.join(self.edges)}"

    def cut_edges(self, ctx: FaultContext) -> list[str]:
        """The proxies this fault cuts (readiness must notice them)."""
        return ctx.resolve_edges(self.edges)
