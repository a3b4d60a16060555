"""``python -m chaos.toxiproxy`` / ``crashcart toxiproxy``: the server in the foreground.

Takes toxiproxy-server's flags (``-host``, ``-port``, ``-config``, ``-seed``,
``-proxy-metrics``, ``-runtime-metrics``, ``-version``) in Go's single-dash form,
``-flag=value`` form and the ``--double-dash`` form; ``-h``/``-help``/``--help`` print
Go-style usage to stderr and exit 0, as Go's ``flag`` package does. Stops on SIGINT/SIGTERM.
The first stdout line, ``Toxiproxy API listening on <url>``, tells launchers the port.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import resource
import signal
import sys

from . import VERSION
from .server import ServerOptions, StartupError, run

_BOOL_FLAGS = ("proxy-metrics", "runtime-metrics", "version")
READY_PREFIX = "Toxiproxy API listening on "
USAGE = """Usage of toxiproxy:
  -config string
    \tJSON file containing proxies to create on startup
  -host string
    \tHost for toxiproxy's API to listen on (default "localhost")
  -port string
    \tPort for toxiproxy's API to listen on (default "8474")
  -proxy-metrics
    \tenable toxiproxy-specific prometheus metrics (default "false")
  -runtime-metrics
    \tenable runtime-related prometheus metrics (default "false")
  -seed int
    \tSeed for randomizing toxics with (default: a random seed, logged at start)
  -version
    \tprint the version (default "false")
"""
"""toxiproxy-server's ``flag`` usage text (same flags, order and help strings)."""


class _GoHelp(argparse.Action):
    """``-h``/``-help``: Go's flag package prints the usage to stderr and exits 0."""

    def __init__(self, option_strings: list[str], dest: str, **kwargs: object) -> None:
        super().__init__(option_strings, dest, nargs=0, help="print this usage and exit")

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: object, option_string: str | None = None) -> None:
        sys.stderr.write(USAGE)
        parser.exit(0)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="toxiproxy", add_help=False,
                                     description="Toxiproxy-compatible fault-injection server")
    parser.add_argument("-h", "-help", "--help", action=_GoHelp)
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
        if arg.startswith("-") and eq and name in ("h", "help"):
            result.append("-help")  # Go prints the usage for -help=<anything>
            continue
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
    _raise_open_file_limit()
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


def _raise_open_file_limit() -> None:
    """Soft RLIMIT_NOFILE up to the hard limit, as Go ≥ 1.19 does for every Go program
    (toxiproxy-server included): a spliced connection holds 8 descriptors (2 sockets,
    their 2 duplicates, 2 pipes)."""
    try:
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if hard == resource.RLIM_INFINITY or soft < hard:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    except (OSError, ValueError):
        pass  # keep the inherited limit


async def _serve(options: ServerOptions) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)

    def ready(url: str) -> None:
        print(f"{READY_PREFIX}{url}", flush=True)

    await run(options, stop, ready)
