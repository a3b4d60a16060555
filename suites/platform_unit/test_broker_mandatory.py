"""svckit's Broker on a real RabbitMQ (a throw-away vhost): an event no queue is bound for
is kept by the alternate exchange; with the alternate exchange gone (nothing at all would
take the event) the mandatory publish is returned and `publish` raises instead of reporting
a confirmed, silently dropped event. (RabbitMQ counts an existing alternate exchange as a
route even with no queue bound to it: every service re-declares and re-binds its queue.)
"""
from __future__ import annotations

import asyncio
import shutil
import subprocess
import uuid
from collections.abc import Iterator

import aio_pika
import pytest
from svckit.broker import Broker
from svckit.outbox import build_message
from svckit.settings import ServiceSettings
from svckit.topology import UNROUTABLE

from chaos.topology import load_topology

RABBITMQCTL = shutil.which("rabbitmqctl") or shutil.which("rabbitmqctl", path="/usr/sbin")


def _ctl(*args: str) -> None:
    assert RABBITMQCTL, "rabbitmqctl is needed to create a throw-away vhost"
    subprocess.run([RABBITMQCTL, *args], check=True, capture_output=True, timeout=60)


@pytest.fixture
def vhost_url() -> Iterator[str]:
    rabbit = load_topology().rabbitmq
    vhost = f"cc_unit_{uuid.uuid4().hex[:8]}"
    _ctl("add_vhost", vhost)
    try:
        _ctl("set_permissions", "-p", vhost, rabbit.user, ".*", ".*", ".*")
        yield f"amqp://{rabbit.user}:{rabbit.password}@{rabbit.host}:{rabbit.port}/{vhost}"
    finally:
        _ctl("delete_vhost", vhost)


@pytest.mark.timeout(60)
def test_an_event_nothing_can_take_is_refused_not_dropped(vhost_url: str) -> None:
    async def scenario() -> None:
        settings = ServiceSettings(service_name="order", amqp_url=vhost_url)  # type: ignore[call-arg]
        broker = Broker(settings)
        broker.start()
        try:
            await asyncio.wait_for(broker.wait_ready(), 15)
            message = build_message(uuid.uuid4(), "nobody.listens", {}, {})
            await broker.publish(message, routing_key="nobody.listens")  # kept by the AE

            side = await aio_pika.connect(vhost_url, timeout=10)
            async with side:
                channel = await side.channel()
                kept = await channel.declare_queue(UNROUTABLE, passive=True)
                assert kept.declaration_result.message_count == 1
                await channel.exchange_delete(UNROUTABLE)
            with pytest.raises(aio_pika.exceptions.DeliveryError):
                await broker.publish(build_message(uuid.uuid4(), "nobody.listens", {}, {}),
                                     routing_key="nobody.listens")
        finally:
            await broker.stop()

    asyncio.run(scenario())
