"""``python -m chaos.toxiproxy`` / ``crashcart toxiproxy``: the server in the foreground.

Takes toxiproxy-server's flags (``-host``, ``-port``, ``-config``, ``-seed``,
``-proxy-metrics``, ``-runtime-metrics``, ``-version``) in Go's single-dash form,
``-flag=value`` form and the ``--double-dash`` form. Stops on SIGINT/SIGTERM.
The first stdout line, ``Toxiproxy API listening on <url>``, tells launchers the port.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys

from . import VERSION
from .server import ServerOptions, StartupError, run

_BOOL_FLAGS = ("proxy-metrics", "runtime-metrics", "version")
READY_PREFIX = "Toxiproxy API listening on "


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="toxiproxy", description="Toxiproxy-compatible fault-injection server")
    parser.add_argument("-host", "--host", default="localhost", help="host for the API to listen on")
    parser.add_argument("-port", "--port", type=int, default=8474, help="port for the API to listen on")
    parser.add_argument("-config", "--config", default=None, help="JSON file of proxies to create at start")
    parser.add_argument("-seed", "--seed", type=int, default=None, help="seed for all toxic decisions")
    parser.add_argument("-proxy-metrics", "--proxy-metrics", action="store_true", help="serve proxy byte counters on /metrics")
    parser.add_argument("-runtime-metrics", "--runtime-metrics", action="store_true", help="serve process metrics on /metrics")
    parser.add_argument("-version", "--version", action="store_true", help="print the version and exit")
    return parser


def _normalise(argv: list[str]) -> list[str]:
    """Go accepts ``-flag=true|false`` for booleans; argparse wants presence/absence."""
    result: list[str] = []
    for arg in argv:
        name, eq, value = arg.lstrip("-").partition("=")
        if arg.startswith("-") and eq and name in _BOOL_FLAGS:
            if value.lower() in ("1", "t", "true"):
                result.append(f"--{name}")
            continue
        result.append(arg)
    return result


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(_normalise(sys.argv[1:] if argv is None else argv))
    if args.version:
        print(f"toxiproxy-server version {VERSION}")
        return 0
    logging.basicConfig(
        level=os.environ.get("LOG_LEVEL", "INFO").upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    options = ServerOptions(
        host=args.host, port=args.port, seed=args.seed, config=args.config,
        proxy_metrics=args.proxy_metrics, runtime_metrics=args.runtime_metrics,
    )
    try:
        asyncio.run(_serve(options))
    except StartupError as exc:
        print(f"toxiproxy: {exc}", file=sys.stderr)
        return 1
    return 0


async def _serve(options: ServerOptions) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)

    def ready(url: str) -> None:
        print(f"{READY_PREFIX}{url}", flush=True)

    await run(options, stop, ready)
