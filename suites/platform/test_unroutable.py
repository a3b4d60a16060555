"""No event is confirmed and silently dropped: the events exchange has the alternate exchange
`crashcart.unroutable`, which keeps what no queue was bound for and raises the alarm
(metric + WARNING log) in every service; the platform publishes no event nobody consumes.
"""
from __future__ import annotations

import asyncio
import uuid
from typing import Any

import aio_pika
import allure
import httpx
import pytest

from suites.helpers import factories
from suites.helpers.metrics import sample
from suites.helpers.platform_db import amqp_url, rows, value
from suites.helpers.waiting import poll_until

pytestmark = [pytest.mark.platform, allure.feature("Unroutable events")]

UNROUTABLE = "crashcart.unroutable"
ALARM = "crashcart_unroutable_events_total"
SERVICES = ("user", "product", "order", "payment")


def _alarms(running_platform: Any, event: str) -> dict[str, float]:
    return {name: sample(running_platform.service_urls[name], ALARM, event=event) or 0.0
            for name in SERVICES}


async def _take(url: str, message_id: str, timeout_s: float = 10.0) -> aio_pika.IncomingMessage | None:
    """Remove the message with `message_id` from the unroutable queue (others stay)."""
    connection = await aio_pika.connect(url, timeout=10)
    async with connection:
        channel = await connection.channel()
        queue = await channel.declare_queue(UNROUTABLE, passive=True)
        deadline = asyncio.get_running_loop().time() + timeout_s
        while asyncio.get_running_loop().time() < deadline:
            message = await queue.get(no_ack=False, fail=False)
            if message is None:
                await asyncio.sleep(0.2)
                continue
            if message.message_id == message_id:
                await message.ack()
                return message
            await message.nack(requeue=True)
            await asyncio.sleep(0.05)
    return None


def test_an_event_no_queue_is_bound_for_is_kept_and_alarmed(running_platform: Any) -> None:
    """A mistyped event type, written to product-service's outbox as a bug would write it."""
    topology = running_platform.topology
    event_type = f"order.craeted.{uuid.uuid4().hex[:8]}"
    before = _alarms(running_platform, event_type)
    event_id = value(topology, "product",
                     "WITH added AS (INSERT INTO outbox (event_id, event_type, payload)"
                     " VALUES (gen_random_uuid(), $1, '{}'::jsonb) RETURNING event_id)"
                     " SELECT event_id FROM added", event_type)
    rows(topology, "product", "SELECT pg_notify('svckit_outbox', '')")

    after = poll_until(lambda: _alarms(running_platform, event_type),
                       lambda seen: all(seen[n] > before[n] for n in SERVICES), timeout=15)
    assert all(after[n] == before[n] + 1 for n in SERVICES), (before, after)
    kept = asyncio.run(_take(amqp_url(topology), str(event_id)))
    assert kept is not None, "the unroutable event was not kept in crashcart.unroutable"
    assert kept.routing_key == event_type
    published = value(topology, "product",
                      "SELECT published_at IS NOT NULL FROM outbox WHERE event_id = $1", event_id)
    assert published, "the broker confirmed the event (to the alternate exchange)"
    log = running_platform.log_path("product").read_text(errors="replace")
    assert f"unroutable event {event_type}" in log


def test_registering_a_user_publishes_nothing_unroutable(api: httpx.Client,
                                                         running_platform: Any) -> None:
    account = factories.new_account(api)
    pending = value(running_platform.topology, "user",
                    "SELECT count(*) FROM outbox WHERE payload->>'user_id' = $1",
                    str(account.id))
    assert pending == 0, "user-service wrote an event that no service consumes"
    assert all(v == 0 for v in _alarms(running_platform, "user.registered").values())
