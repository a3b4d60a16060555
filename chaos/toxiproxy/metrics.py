"""Prometheus metrics, served on ``/metrics`` only when enabled by flags (as in Go).

Byte counters are incremented when a link finishes (connection end), like Toxiproxy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from prometheus_client import (
    CollectorRegistry,
    Counter,
    gc_collector,
    generate_latest,
    platform_collector,
    process_collector,
)

if TYPE_CHECKING:
    from .proxy import Proxy

_LABELS = ("direction", "proxy", "listener", "upstream")


class Metrics:
    def __init__(self, *, proxy_metrics: bool, runtime_metrics: bool) -> None:
        self.registry = CollectorRegistry()
        self.proxy_metrics = proxy_metrics
        if proxy_metrics:
            self.received = Counter(
                "toxiproxy_proxy_received_bytes", "Bytes received by a proxy from its source",
                _LABELS, registry=self.registry,
            )
            self.sent = Counter(
                "toxiproxy_proxy_sent_bytes", "Bytes sent by a proxy to its destination",
                _LABELS, registry=self.registry,
            )
        if runtime_metrics:
            process_collector.ProcessCollector(registry=self.registry)
            platform_collector.PlatformCollector(registry=self.registry)
            gc_collector.GCCollector(registry=self.registry)

    def link_finished(self, proxy: Proxy, stream: str, received: int, sent: int) -> None:
        if not self.proxy_metrics:
            return
        labels = (stream, proxy.name, proxy.listen, proxy.upstream)
        self.received.labels(*labels).inc(received)
        self.sent.labels(*labels).inc(sent)

    def render(self) -> bytes:
        return generate_latest(self.registry)
