"""Saga consumers on the real broker: a poison message is parked in the dead-letter queue
(and counted), and a redelivered event is recognised by the inbox and not applied twice,
whatever characters its message id holds.

The tests publish straight to the platform's topic exchange, as a misbehaving producer or
a broker redelivery would, and observe the outcome through the broker and /metrics.
"""
from __future__ import annotations

import asyncio
import uuid
from typing import Any

import aio_pika
import allure
import orjson
import pytest
from svckit.topology import SAGA_QUEUES, dead_letter_queue

from suites.helpers.metrics import sample
from suites.helpers.waiting import poll_until

pytestmark = [pytest.mark.platform, allure.feature("Event delivery")]

CONSUMED = "crashcart_consumer_messages_total"
DEAD_LETTERED = "crashcart_consumer_dead_lettered_total"
PRODUCT_QUEUE = SAGA_QUEUES["product"].name


def _amqp_url(running_platform: Any) -> str:
    """The broker itself (not a proxy): these tests play a producer outside the mesh."""
    rabbit = running_platform.topology.rabbitmq
    return rabbit.url(host=rabbit.host, port=rabbit.port)


def _counter(running_platform: Any, name: str, **labels: str) -> float:
    return sample(running_platform.service_urls["product"], name, **labels) or 0.0


async def _publish(url: str, exchange: str, routing_key: str, body: bytes,
                   message_id: str, copies: int = 1) -> None:
    connection = await aio_pika.connect_robust(url)
    async with connection:
        channel = await connection.channel()
        target = await channel.get_exchange(exchange, ensure=True)
        for _ in range(copies):
            await target.publish(
                aio_pika.Message(body, message_id=message_id, type=routing_key,
                                 content_type="application/json",
                                 delivery_mode=aio_pika.DeliveryMode.PERSISTENT),
                routing_key=routing_key)


async def _take_from(url: str, queue_name: str, message_id: str) -> bytes | None:
    """Remove and return the message with `message_id` from a queue (others go back)."""
    connection = await aio_pika.connect_robust(url)
    async with connection:
        channel = await connection.channel()
        queue = await channel.declare_queue(queue_name, durable=True, passive=True)
        others = []
        found = None
        while (message := await queue.get(no_ack=False, fail=False)) is not None:
            if message.message_id == message_id:
                await message.ack()
                found = message.body
                break
            others.append(message)
        for message in others:
            await message.nack(requeue=True)
        return found


def test_a_poison_message_is_parked_in_the_dead_letter_queue(running_platform: Any) -> None:
    url = _amqp_url(running_platform)
    exchange = running_platform.topology.rabbitmq.exchange
    message_id = f"poison-{uuid.uuid4().hex}"
    before = _counter(running_platform, DEAD_LETTERED, queue=PRODUCT_QUEUE)
    with allure.step("publish a non-JSON order.created"):
        asyncio.run(_publish(url, exchange, "order.created", b"{not json", message_id))
    with allure.step("product-service counts it as dead-lettered"):
        after = poll_until(lambda: _counter(running_platform, DEAD_LETTERED, queue=PRODUCT_QUEUE),
                           lambda value: value >= before + 1, timeout=10.0)
        assert after >= before + 1, "the poison message was never dead-lettered"
    with allure.step(f"it waits in {dead_letter_queue(PRODUCT_QUEUE)}, body intact"):
        parked = asyncio.run(_take_from(url, dead_letter_queue(PRODUCT_QUEUE), message_id))
        assert parked == b"{not json"


def test_a_message_id_with_a_nul_character_is_parked_at_once(running_platform: Any) -> None:
    """The inbox cannot record such an id (PostgreSQL text holds no NUL): dead-lettered on
    its first delivery, not retried."""
    url = _amqp_url(running_platform)
    exchange = running_platform.topology.rabbitmq.exchange
    message_id = f"nul-{uuid.uuid4().hex}\x00tail"
    body = orjson.dumps({"order_id": 2**40 + uuid.uuid4().int % 2**20, "user_id": 1})
    retried = _counter(running_platform, CONSUMED, queue=PRODUCT_QUEUE, outcome="retried")
    asyncio.run(_publish(url, exchange, "order.paid", body, message_id))
    parked = poll_until(
        lambda: asyncio.run(_take_from(url, dead_letter_queue(PRODUCT_QUEUE), message_id)),
        lambda found: found is not None, timeout=10.0)
    assert parked == body
    assert _counter(running_platform, CONSUMED, queue=PRODUCT_QUEUE, outcome="retried") == retried


@pytest.mark.parametrize("id_prefix", ["dup-", "it's a \\ '); DROP TABLE inbox; -- "],
                         ids=["plain", "quotes-and-backslashes"])
def test_a_redelivered_event_is_applied_once(running_platform: Any, id_prefix: str) -> None:
    """Two copies of one event (same message id): the inbox lets one through."""
    url = _amqp_url(running_platform)
    exchange = running_platform.topology.rabbitmq.exchange
    message_id = f"{id_prefix}{uuid.uuid4().hex}"
    # order.paid for an order product-service never reserved: applying it changes nothing,
    # so only the inbox's verdict (processed vs duplicate) is observable.
    body = orjson.dumps({"order_id": 2**40 + uuid.uuid4().int % 2**20, "user_id": 1})
    processed = _counter(running_platform, CONSUMED, queue=PRODUCT_QUEUE, outcome="processed")
    duplicates = _counter(running_platform, CONSUMED, queue=PRODUCT_QUEUE, outcome="duplicate")
    with allure.step("publish the same order.paid event twice"):
        asyncio.run(_publish(url, exchange, "order.paid", body, message_id, copies=2))
    with allure.step("one copy processed, one recognised as a duplicate"):
        seen = poll_until(
            lambda: _counter(running_platform, CONSUMED, queue=PRODUCT_QUEUE, outcome="duplicate"),
            lambda value: value >= duplicates + 1, timeout=10.0)
        assert seen >= duplicates + 1, "the second copy was not recognised as a duplicate"
        assert _counter(running_platform, CONSUMED, queue=PRODUCT_QUEUE,
                        outcome="processed") >= processed + 1
