"""Toxiproxy toxics on an edge or a group of edges, one unit per toxic type.

``edges`` takes proxy names or shell patterns (``"*_to_db"``, ``"gateway_to_*"``); fields are
named with their units and translated to Toxiproxy's attribute names. Each toxic is added
under a fixed name (``crashcart_<kind>_<label>_<stream>``), so applying twice updates it and
undoing a toxic that is already gone is a no-op.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, ClassVar

from chaos.faults.base import FaultContext, register

TOXIC_PREFIX = "crashcart_"
STREAMS = ("upstream", "downstream")


@dataclass(frozen=True, slots=True, kw_only=True)
class ToxicFault:
    """Shared fields: which edges, which direction (``both`` = one toxic per stream), toxicity."""

    kind: ClassVar[str] = ""
    toxic_type: ClassVar[str] = ""
    edges: tuple[str, ...]
    stream: str = "downstream"
    toxicity: float = 1.0
    label: str = "x"

    def attributes(self) -> dict[str, Any]:
        raise NotImplementedError

    def streams(self) -> tuple[str, ...]:
        if self.stream == "both":
            return STREAMS
        if self.stream not in STREAMS:
            raise ValueError(f"stream must be upstream, downstream or both, not {self.stream!r}")
        return (self.stream,)

    def toxic_name(self, stream: str) -> str:
        return f"{TOXIC_PREFIX}{self.kind}_{self.label}_{stream}"

    def apply(self, ctx: FaultContext) -> None:
        for proxy in ctx.resolve_edges(self.edges):
            for stream in self.streams():
                ctx.admin.put_toxic(proxy, name=self.toxic_name(stream), type=self.toxic_type,
                                    stream=stream, toxicity=self.toxicity,
                                    attributes=self.attributes())

    def undo(self, ctx: FaultContext) -> None:
        for proxy in ctx.resolve_edges(self.edges):
            for stream in self.streams():
                ctx.admin.remove_toxic(proxy, self.toxic_name(stream))

    def describe(self) -> str:
        attrs = ", ".join(f"{k}={v}" for k, v in self._unit_fields().items())
        return f"{self.kind}({attrs}) on {', '.join(self.edges)} [{self.stream}]"

    def _unit_fields(self) -> dict[str, Any]:
        skip = {"edges", "stream", "toxicity", "label"}
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)
                if f.name not in skip}


@register
@dataclass(frozen=True, slots=True, kw_only=True)
class Latency(ToxicFault):
    """Delay every chunk by ``latency_ms`` ± ``jitter_ms``."""

    kind: ClassVar[str] = "latency"
    toxic_type: ClassVar[str] = "latency"
    latency_ms: int
    jitter_ms: int = 0

    def attributes(self) -> dict[str, Any]:
        return {"latency": self.latency_ms, "jitter": self.jitter_ms}


@register
@dataclass(frozen=True, slots=True, kw_only=True)
class Bandwidth(ToxicFault):
    """Limit throughput to ``rate_kb_per_s`` (KB = 1000 bytes); 0 stalls the stream."""

    kind: ClassVar[str] = "bandwidth"
    toxic_type: ClassVar[str] = "bandwidth"
    rate_kb_per_s: int

    def attributes(self) -> dict[str, Any]:
        return {"rate": self.rate_kb_per_s}


@register
@dataclass(frozen=True, slots=True, kw_only=True)
class SlowClose(ToxicFault):
    """Delay the propagation of a close by ``delay_ms``."""

    kind: ClassVar[str] = "slow_close"
    toxic_type: ClassVar[str] = "slow_close"
    delay_ms: int

    def attributes(self) -> dict[str, Any]:
        return {"delay": self.delay_ms}


@register
@dataclass(frozen=True, slots=True, kw_only=True)
class Timeout(ToxicFault):
    """Swallow all data; close after ``timeout_ms`` without data (0: black hole until removed)."""

    kind: ClassVar[str] = "timeout"
    toxic_type: ClassVar[str] = "timeout"
    timeout_ms: int = 0

    def attributes(self) -> dict[str, Any]:
        return {"timeout": self.timeout_ms}


@register
@dataclass(frozen=True, slots=True, kw_only=True)
class ResetPeer(ToxicFault):
    """Reset (RST) the connection ``timeout_ms`` after its first data."""

    kind: ClassVar[str] = "reset_peer"
    toxic_type: ClassVar[str] = "reset_peer"
    timeout_ms: int = 0

    def attributes(self) -> dict[str, Any]:
        return {"timeout": self.timeout_ms}


@register
@dataclass(frozen=True, slots=True, kw_only=True)
class Slicer(ToxicFault):
    """Cut data into pieces of ``average_size_bytes`` ± variation, ``delay_us`` apart."""

    kind: ClassVar[str] = "slicer"
    toxic_type: ClassVar[str] = "slicer"
    average_size_bytes: int
    size_variation_bytes: int = 0
    delay_us: int = 0

    def attributes(self) -> dict[str, Any]:
        return {"average_size": self.average_size_bytes,
                "size_variation": self.size_variation_bytes, "delay": self.delay_us}


@register
@dataclass(frozen=True, slots=True, kw_only=True)
class LimitData(ToxicFault):
    """Close each connection after ``limit_bytes`` bytes."""

    kind: ClassVar[str] = "limit_data"
    toxic_type: ClassVar[str] = "limit_data"
    limit_bytes: int

    def attributes(self) -> dict[str, Any]:
        return {"bytes": self.limit_bytes}
