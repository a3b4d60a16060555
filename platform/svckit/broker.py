"""The AMQP connection of a service, kept alive by a reconnect loop.

The service must serve HTTP while the broker is unreachable, so the connection lives in a
background task: connect, declare the saga topology, start the consumers, wait for the
connection to close, back off, repeat. Readiness and the outbox relay read `is_ready`.
Publishes are mandatory on a confirming channel: an event the broker cannot route at all
(no bound queue and the alternate exchange missing) is returned and `publish` raises, so
the outbox keeps it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractConnection, AbstractExchange

from svckit.metrics import BROKER_CONNECTED
from svckit.settings import ServiceSettings
from svckit.topology import declare_saga_topology, upgrade_events_exchange
from svckit.unroutable import watch_unroutable

log = logging.getLogger("svckit.broker")

OnConnect = Callable[[AbstractConnection], Awaitable[None]]


class BrokerUnavailable(Exception):
    pass


class Broker:
    def __init__(self, settings: ServiceSettings) -> None:
        self.settings = settings
        self._on_connect: list[OnConnect] = []
        self._connection: AbstractConnection | None = None
        self._channel: AbstractChannel | None = None
        self._exchange: AbstractExchange | None = None
        self._ready = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        BROKER_CONNECTED.set(0)

    @property
    def is_ready(self) -> bool:
        return self._ready.is_set()

    async def wait_ready(self) -> None:
        await self._ready.wait()

    def on_connect(self, callback: OnConnect) -> None:
        """Run `callback(connection)` after every (re)connect, e.g. to start consuming."""
        self._on_connect.append(callback)

    def _url(self) -> str:
        """AMQP_URL plus a heartbeat (to notice a silently dead link) and a connection name."""
        parts = urlsplit(self.settings.amqp_url)
        query = dict(parse_qsl(parts.query))
        query.setdefault("heartbeat", str(self.settings.broker_heartbeat_s))
        query.setdefault("name", f"crashcart-{self.settings.service_name}")
        return urlunsplit(parts._replace(query=urlencode(query)))

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="broker-connection")

    async def stop(self) -> None:
        self._stopping = True
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        if self._connection and not self._connection.is_closed:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._connection.close(), 3)

    async def _run(self) -> None:
        delay = 0.5
        while not self._stopping:
            try:
                lost = await self._connect_once()
                delay = 0.5
                await lost.wait()
                log.warning("broker connection lost; reconnecting")
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("broker unavailable (%s: %s); retrying in %.1fs",
                            type(exc).__name__, exc, delay)
            finally:
                self._mark_down()
            await asyncio.sleep(delay)
            delay = min(delay * 2, 2.0)

    async def _connect_once(self) -> asyncio.Event:
        """Connect and set everything up; the returned event fires when the link is lost."""
        lost = asyncio.Event()
        connection = await aio_pika.connect(self._url(), timeout=5)
        self._connection = connection
        # aio-pika's `closed()` only resolves on an explicit close(); a dropped transport
        # is reported through the close callbacks.
        connection.close_callbacks.add(lambda *_: lost.set())
        await upgrade_events_exchange(connection, self.settings)
        channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
        self._exchange = await declare_saga_topology(channel, self.settings)
        self._channel = channel
        # A publishing channel the broker closes would leave every later publish failing on
        # a "ready" connection: recycle the connection instead.
        channel.close_callbacks.add(lambda *_: lost.set())
        await watch_unroutable(connection)
        for callback in self._on_connect:
            await callback(connection)
        self._ready.set()
        BROKER_CONNECTED.set(1)
        log.info("broker connected")
        return lost

    def _mark_down(self) -> None:
        self._ready.clear()
        BROKER_CONNECTED.set(0)
        self._exchange = None
        connection, self._connection = self._connection, None
        if connection is not None and not connection.is_closed:
            asyncio.ensure_future(_close_quietly(connection))

    async def publish(self, message: aio_pika.Message, routing_key: str) -> None:
        """Publish to the events exchange (mandatory) and wait for the broker's confirm;
        raises if the broker returned the message as unroutable."""
        exchange = self._exchange
        if exchange is None or not self.is_ready:
            raise BrokerUnavailable("not connected to the broker")
        await exchange.publish(message, routing_key=routing_key, mandatory=True, timeout=5)


async def _close_quietly(connection: AbstractConnection) -> None:
    with contextlib.suppress(Exception):
        await asyncio.wait_for(connection.close(), 3)
