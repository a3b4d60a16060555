"""Fault context managers over toxiproxy-python: a toxic or a downed proxy for one block.

Why: toxiproxy-python (``toxiproxy`` package) has no toxic context manager and keeps
its server address in *class attributes* of ``APIConsumer`` (one server per process);
``connect`` points it at a URL. Every context manager here undoes its fault in
``finally``, so a failing test body never leaves a toxic or a disabled proxy behind, and
undoes it on the server it was applied to, even if the body ``connect``-ed elsewhere.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

from toxiproxy import Toxiproxy
from toxiproxy.api import APIConsumer
from toxiproxy.exceptions import NotFound
from toxiproxy.proxy import Proxy
from toxiproxy.toxic import Toxic

__all__ = ["connect", "proxy_down", "toxic"]


def connect(url: str) -> Toxiproxy:
    """A toxiproxy-python client for the server at ``url`` (e.g. ``http://127.0.0.1:8474``).

    Note: toxiproxy-python stores host/port globally, so the last ``connect`` wins.
    """
    parts = urlsplit(url if "://" in url else f"http://{url}")
    client = Toxiproxy()
    client.update_api_consumer(parts.hostname or "127.0.0.1", parts.port or 8474)
    return client


@contextmanager
def _talking_to(address: tuple[str, int]) -> Iterator[None]:
    """Point toxiproxy-python at ``address`` for one call, then restore the current address."""
    current = (APIConsumer.host, APIConsumer.port)
    APIConsumer.host, APIConsumer.port = address
    try:
        yield
    finally:
        APIConsumer.host, APIConsumer.port = current


def _proxy(client: Toxiproxy, name: str) -> Proxy:
    proxy = client.get_proxy(name)
    if proxy is None:
        raise LookupError(f"no proxy named {name!r} on {APIConsumer.host}:{APIConsumer.port}")
    return proxy


@contextmanager
def toxic(
    client: Toxiproxy,
    proxy: str,
    type: str,  # noqa: A002 - Toxiproxy's field name
    *,
    stream: str = "downstream",
    toxicity: float = 1.0,
    name: str | None = None,
    **attributes: Any,
) -> Iterator[Toxic]:
    """Add a toxic (attributes in Toxiproxy units, e.g. ``latency=100`` ms), yield it, always remove it."""
    target = _proxy(client, proxy)
    server = (APIConsumer.host, APIConsumer.port)
    toxic_name = name or f"{type}_{stream}"
    target.add_toxic(type=type, stream=stream, toxicity=toxicity, name=toxic_name, attributes=attributes)
    try:
        yield Toxic(type=type, stream=stream, toxicity=toxicity, name=toxic_name, attributes=attributes)
    finally:
        try:
            with _talking_to(server):
                target.destroy_toxic(toxic_name)
        except NotFound:
            pass  # the proxy (and its toxics) went away inside the block


@contextmanager
def proxy_down(client: Toxiproxy, proxy: str) -> Iterator[Proxy]:
    """Disable a proxy (listener and live connections closed), yield, always re-enable."""
    target = _proxy(client, proxy)
    server = (APIConsumer.host, APIConsumer.port)
    target.disable()
    try:
        yield target
    finally:
        try:
            with _talking_to(server):
                target.enable()
        except NotFound:
            pass  # the proxy went away inside the block: nothing to re-enable
