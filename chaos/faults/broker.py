"""Broker faults: the broker closes a service's consumer channel; a service's publishes blocked.

* ``close_consumer_channel``: one-shot (the platform must re-open the channel by itself, and
  readiness must say ``not_ready`` meanwhile); undo has nothing to put back.
* ``block_publishes``: every byte the service sends to the broker is held
  (Toxiproxy ``bandwidth`` 0 on ``<svc>_to_broker`` upstream): publishes get no confirm,
  acks stall; on undo the held bytes are delivered, nothing is lost. Why not a broker-side
  policy: on this RabbitMQ (3.10) ``max-length`` + ``reject-publish`` truncates the queue's
  existing messages, and memory/disk alarms block every vhost on the node.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from chaos.faults.base import FaultContext, register
from chaos.faults.rabbit import close_consumer_channels
from chaos.faults.toxics import Bandwidth

CONNECTION_NAME = "crashcart-{service}"
"""How svckit names a service's AMQP connection (``name=`` in its URL)."""


@register
@dataclass(frozen=True, slots=True, kw_only=True)
class CloseConsumerChannel:
    """The broker closes every consuming channel of ``service`` (PRECONDITION_FAILED)."""

    kind: ClassVar[str] = "close_consumer_channel"
    service: str

    def apply(self, ctx: FaultContext) -> None:
        close_consumer_channels(ctx.vhost, CONNECTION_NAME.format(service=self.service))

    def undo(self, ctx: FaultContext) -> None:
        """Nothing to restore: recovering the channel is the platform's job."""

    def describe(self) -> str:
        return f"broker closes {self.service}'s consumer channel"


@register
@dataclass(frozen=True, slots=True, kw_only=True)
class BlockPublishes:
    """Hold every byte ``service`` sends to the broker (no publish reaches it) until undone."""

    kind: ClassVar[str] = "block_publishes"
    service: str

    def _toxic(self) -> Bandwidth:
        return Bandwidth(edges=(f"{self.service}_to_broker",), stream="upstream",
                         rate_kb_per_s=0, label="block_publishes")

    def apply(self, ctx: FaultContext) -> None:
        self._toxic().apply(ctx)

    def undo(self, ctx: FaultContext) -> None:
        self._toxic().undo(ctx)

    def describe(self) -> str:
        return f"block {self.service}'s publishes ({self.service}_to_broker upstream held)"
