"""Prometheus metrics shared by the services (one process = one service = one registry)."""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest
from starlette.requests import Request
from starlette.responses import Response

HTTP_LATENCY = Histogram(
    "crashcart_http_request_duration_seconds",
    "HTTP request latency by route template, method and status",
    ["method", "route", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
BREAKER_STATE = Gauge(
    "crashcart_circuit_breaker_state",
    "Circuit breaker state per dependency: 0 closed, 1 open, 2 half-open",
    ["dependency"],
)
DEPENDENCY_CALLS = Counter(
    "crashcart_dependency_calls_total",
    "Outgoing HTTP calls by dependency and outcome",
    ["dependency", "outcome"],
)
OUTBOX_BACKLOG = Gauge("crashcart_outbox_backlog", "Outbox rows not yet published")
OUTBOX_PUBLISHED = Counter("crashcart_outbox_published_total", "Outbox rows published", ["event"])
UNROUTABLE_EVENTS = Counter(
    "crashcart_unroutable_events_total",
    "Events that reached the alternate exchange (no queue bound for them): an alarm",
    ["event"],
)
BROKER_CONNECTED = Gauge("crashcart_broker_connected", "1 while the AMQP connection is up")
CONSUMED = Counter(
    "crashcart_consumer_messages_total",
    "Messages handled by outcome (processed, duplicate, retried, dead_lettered)",
    ["queue", "outcome"],
)
CONSUMER_RETRIES = Counter(
    "crashcart_consumer_retries_total", "Messages sent to a retry queue", ["queue"]
)
DEAD_LETTERED = Counter(
    "crashcart_consumer_dead_lettered_total", "Messages parked in the dead-letter queue", ["queue"]
)


async def metrics_endpoint(_: Request) -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
