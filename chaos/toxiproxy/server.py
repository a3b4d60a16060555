"""Assemble and run one server: API socket, proxy collection, optional config and metrics."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import uvicorn

from . import addresses
from .app import AdminApp
from .collection import ApiError, ProxyCollection
from .metrics import Metrics

log = logging.getLogger("chaos.toxiproxy")


@dataclass(slots=True)
class ServerOptions:
    host: str = "localhost"
    port: int = 8474
    seed: int | None = None
    """Seed for every toxic decision; None = a random one (logged, so a run can be replayed)."""
    config: str | None = None
    """JSON file in the ``/populate`` format, applied before the API listens."""
    proxy_metrics: bool = False
    runtime_metrics: bool = False


class StartupError(Exception):
    """The server could not start (e.g. the API port is taken)."""


class _Uvicorn(uvicorn.Server):
    """uvicorn without its own signal handling: our caller decides when to stop."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def client_url(listen: str) -> str:
    """``http://host:port`` a client can reach for a rendered listen address."""
    host, port = addresses.split_host_port(listen)
    if host in ("::", "0.0.0.0", ""):
        host = "127.0.0.1"
    return f"http://{'[' + host + ']' if ':' in host else host}:{port}"


async def run(options: ServerOptions, stop: asyncio.Event, on_ready: Callable[[str], None]) -> None:
    """Serve until ``stop`` is set; ``on_ready(url)`` is called once the API listens."""
    try:
        sock, listen = await addresses.bind(addresses.render(options.host, options.port)
                                            if options.host else f":{options.port}")
    except addresses.ListenError as exc:
        raise StartupError(f"cannot listen for the API on {options.host}:{options.port}: {exc}") from None
    seed = options.seed if options.seed is not None else secrets.randbits(63)
    log.info("toxic decisions use seed %d", seed)
    metrics = (
        Metrics(proxy_metrics=options.proxy_metrics, runtime_metrics=options.runtime_metrics)
        if options.proxy_metrics or options.runtime_metrics
        else None
    )
    collection = ProxyCollection(seed=seed, metrics=metrics)
    if options.config:
        await _load_config(collection, options.config)
    config = uvicorn.Config(
        AdminApp(collection, metrics), lifespan="off", log_level="warning", access_log=False,
        server_header=False, timeout_keep_alive=60, http="h11",
    )
    server = _Uvicorn(config)
    serving = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        while not server.started:
            if serving.done():
                await serving
                raise StartupError("the API server stopped during start-up")
            await asyncio.sleep(0.005)
        on_ready(client_url(listen))
        stopped = asyncio.create_task(stop.wait())
        await asyncio.wait({serving, stopped}, return_when=asyncio.FIRST_COMPLETED)
        stopped.cancel()
    finally:
        collection.stop_all()
        server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await serving


async def _load_config(collection: ProxyCollection, path: str) -> None:
    """Like Go: errors are logged, never fatal."""
    try:
        body = Path(path).read_bytes()
        proxies = await collection.populate(body)
        log.info("config %s: %d proxies", path, len(proxies or []))
    except (OSError, ApiError) as exc:
        log.error("config %s not applied: %s", path, exc)
