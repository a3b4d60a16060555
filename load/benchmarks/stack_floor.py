"""CPU per request of the HTTP stack alone: what a service request costs before its own work.

    python -m load.benchmarks.stack_floor [--requests 3000 --rounds 3 --threads 4]

Three servers under the services' uvicorn (uvloop, their httptools protocol from
`svckit.http_protocol`), each answering ``GET /floor/{item_id}`` with a small JSON object
and no database, broker or log file:

* ``raw ASGI`` — a bare ASGI callable: uvicorn's own cost per request;
* ``FastAPI`` — the same route as a FastAPI endpoint with a typed path parameter and a
  response model, as every service route has;
* ``FastAPI + svckit`` — that app with the services' own stack
  (`svckit.app.install_http_stack`: problem handlers, request id, metrics, access log,
  request deadline, HEAD as GET, JSON body check), the log going to /dev/null.

The rounds alternate the servers (one fresh process each per round) and the table gives the
median CPU of the server process per request. A checkout makes about five such requests
(the POST, the user check, the price look-up, the buyer's polls), so these figures times
five are a floor no handler code can go below. Not a test; the figures depend on the
machine.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
from collections.abc import Awaitable, Callable, MutableMapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import psutil
from fastapi import FastAPI
from pydantic import BaseModel

from chaos.backends.local.services import HTTP_PROTOCOL
from load.benchmarks.servers import free_port, positive_int, serving

Scope = MutableMapping[str, Any]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
SERVERS = {
    "raw ASGI": "raw_app",
    "FastAPI": "fastapi_app",
    "FastAPI + svckit": "svckit_app",
}
"""Label -> the app's name in this module (uvicorn imports it in a fresh process)."""
MODULE = "load.benchmarks.stack_floor"
"""This module's import name (``__name__`` is ``__main__`` when it runs with ``-m``)."""


class Item(BaseModel):
    id: int
    name: str


BODY = b'{"id":1,"name":"floor"}'


async def raw_app(scope: Scope, receive: Callable[[], Awaitable[Any]], send: Send) -> None:
    """The least an ASGI server can be asked to do per request."""
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(BODY)).encode())]})
    await send({"type": "http.response.body", "body": BODY})


def _fastapi() -> FastAPI:
    app = FastAPI()

    @app.get("/floor/{item_id}", response_model=Item)
    async def floor(item_id: int) -> Item:
        return Item(id=item_id, name="floor")

    return app


def _svckit() -> FastAPI:
    from svckit.app import install_http_stack
    from svckit.logging import configure_logging
    from svckit.settings import ServiceSettings

    settings = ServiceSettings(service_name="product")  # type: ignore[call-arg]
    configure_logging("floor", settings.log_level)
    app = _fastapi()
    install_http_stack(app, settings)
    return app


def __getattr__(name: str) -> Any:
    """Build the two FastAPI apps only when uvicorn asks for one (not on every import)."""
    if name == "fastapi_app":
        return _fastapi()
    if name == "svckit_app":
        return _svckit()
    raise AttributeError(name)


def uvicorn_command(app_name: str, port: int) -> list[str]:
    """uvicorn serving this module's `app_name` under the services' loop and protocol."""
    return [sys.executable, "-m", "uvicorn", f"{MODULE}:{app_name}", "--port", str(port),
            "--loop", "uvloop", "--http", HTTP_PROTOCOL, "--no-access-log",
            "--log-level", "warning"]


def cpu_per_request(app_name: str, *, requests: int, threads: int) -> float:
    """Server CPU seconds per request over `requests` GETs from `threads` clients (after a
    warm-up), in a fresh uvicorn process that is always stopped."""
    port = free_port()
    command = uvicorn_command(app_name, port)
    base = f"http://127.0.0.1:{port}/floor"
    with serving(command, f"{base}/1") as process:

        def client(count: int) -> None:
            with httpx.Client(timeout=10) as http:
                for index in range(count):
                    http.get(f"{base}/{index}").raise_for_status()

        client(200)
        server = psutil.Process(process.pid)
        before = server.cpu_times()
        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(client, [requests // threads] * threads))
        after = server.cpu_times()
    done = requests // threads * threads
    return (after.user + after.system - before.user - before.system) / done


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--requests", type=positive_int, default=3000)
    parser.add_argument("--rounds", type=positive_int, default=3)
    parser.add_argument("--threads", type=positive_int, default=4)
    args = parser.parse_args(argv)
    print(f"machine: nproc={os.cpu_count()}, python={sys.version.split()[0]}, "
          f"loadavg(1m)={os.getloadavg()[0]:.2f}; {args.rounds} rounds x {args.requests} "
          f"requests per server, {args.threads} client threads", flush=True)
    samples: dict[str, list[float]] = {label: [] for label in SERVERS}
    for round_index in range(args.rounds):
        order = list(SERVERS.items())
        if round_index % 2:
            order.reverse()
        for label, app_name in order:
            seconds = cpu_per_request(app_name, requests=args.requests, threads=args.threads)
            samples[label].append(seconds)
            print(f"round {round_index + 1}: {label}: {seconds * 1e6:.0f} us", flush=True)
    print("\n| server | CPU µs per request (median) | over the one above |\n|---|---:|---:|")
    previous = None
    for label, values in samples.items():
        median = statistics.median(values) * 1e6
        extra = f"+{median - previous:.0f}" if previous is not None else "-"
        print(f"| {label} | {median:.0f} | {extra} |")
        previous = median


if __name__ == "__main__":
    main()
