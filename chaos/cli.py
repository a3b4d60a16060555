"""The ``crashcart`` console script: run the platform locally and reach the harness tools.

Exit codes: 0 success; 1 the operation failed (message on stderr); 2 usage or topology
error; 3 ``status`` with nothing running; 130 interrupted.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from chaos.topology import TopologyError, load_topology

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_NOT_RUNNING, EXIT_INTERRUPTED = 0, 1, 2, 3, 130

COMMAND_MODULES: tuple[str, ...] = ("run", "heal", "chaos", "load", "contracts", "fuzz",
                                     "selftest")
"""Harness layers' subcommands, one module each under ``chaos.commands``: every module has
``add_parser(subparsers)``, which adds its parser and sets ``handler=fn(args, topology) -> int``
as a default, so this file never grows with the layers."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="crashcart", description="Chaos and contract testing harness: run the platform.")
    parser.add_argument("--topology", type=Path, default=None,
                        help="topology file (default: $CRASHCART_TOPOLOGY or "
                             "platform/topology.toml)")
    parser.add_argument("--state-dir", type=Path, default=None,
                        help="where pids, logs and the rendered nginx config live "
                             "(default: $CRASHCART_STATE_DIR or .crashcart/)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    up = sub.add_parser("up", help="start the platform (idempotent) and print the gateway URL")
    up.add_argument("--timeout", type=float, default=120.0,
                    help="seconds to wait for readiness (default 120)")
    sub.add_parser("down", help="stop everything `up` started")
    sub.add_parser("status", help="table of components: pid, port, up, ready")
    sub.add_parser("toxiproxy", add_help=False,
                   help="run the Toxiproxy-compatible server (arguments as toxiproxy-server)")
    gen = sub.add_parser("generate", help="write the compose artifacts derived from the "
                                          "topology (toxiproxy.json, nginx.conf)")
    gen.add_argument("--check", action="store_true",
                     help="only compare; exit 1 when a committed file differs")
    for module in COMMAND_MODULES:
        importlib.import_module(f"chaos.commands.{module}").add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args_in = list(sys.argv[1:] if argv is None else argv)
    if args_in[:1] == ["toxiproxy"]:
        # The rest belongs to the server's own (Go-style) flags; argparse must not see it.
        from chaos.toxiproxy.cli import main as toxiproxy_main
        return int(toxiproxy_main(args_in[1:]) or 0)
    args = _parser().parse_args(args_in)
    try:
        topology = load_topology(args.topology)
    except TopologyError as exc:
        print(f"crashcart: topology error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    try:
        if args.command == "generate":
            return _generate(topology, check=args.check)
        handler = getattr(args, "handler", None)
        if handler is not None:
            return int(handler(args, topology))
        from chaos.backends.local import LocalBackend, PlatformError
        backend = LocalBackend(topology, args.state_dir,
                               ready_timeout=getattr(args, "timeout", 120.0))
        try:
            if args.command == "up":
                return _up(backend)
            if args.command == "down":
                return _down(backend)
            return _status(backend)
        except PlatformError as exc:
            print(f"crashcart {args.command}: {exc}", file=sys.stderr)
            return EXIT_FAILED
    except KeyboardInterrupt:
        print("crashcart: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # `crashcart chaos matrix --list | head`: the reader left; no traceback, and no
        # second error when the interpreter flushes stdout at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_FAILED


def _progress(line: str) -> None:
    print(f"  {line}", flush=True)


def _up(backend) -> int:  # type: ignore[no-untyped-def]
    handle = backend.up(progress=_progress)
    if handle.already_running:
        print(f"crashcart: platform is already up; gateway {handle.gateway_url}")
    print(handle.gateway_url)
    return EXIT_OK


def _down(backend) -> int:  # type: ignore[no-untyped-def]
    report = backend.down(progress=_progress)
    if not report.was_running:
        print("crashcart: platform is not running (nothing recorded); nothing to stop")
        return EXIT_OK
    if not report.clean:
        for port, holder in sorted(report.leftover_ports.items()):
            print(f"crashcart down: port {port} is still in use by {holder}", file=sys.stderr)
        return EXIT_FAILED
    print("crashcart: platform is down")
    return EXIT_OK


def _status(backend) -> int:  # type: ignore[no-untyped-def]
    rows = backend.status()
    if not rows:
        print("crashcart: platform is not running")
        return EXIT_NOT_RUNNING
    header = ("component", "pid", "port", "up", "ready")
    table = [header] + [
        (row.component, str(row.pid or "-"), str(row.port or "-"),
         "paused" if row.paused else ("yes" if row.up else "no"),
         "yes" if row.ready else "no")
        for row in rows
    ]
    widths = [max(len(r[i]) for r in table) for i in range(len(header))]
    for row in table:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False)).rstrip())
    return EXIT_OK if all(r.up and r.ready for r in rows) else EXIT_FAILED


def _generate(topology, *, check: bool) -> int:  # type: ignore[no-untyped-def]
    from chaos.backends.compose_files import write_compose_artifacts
    # Committed artifacts describe the declared topology, not this shell's overrides.
    stale = write_compose_artifacts(load_topology(topology.source, env={}), check=check)
    for path in stale:
        print(f"{'differs' if check else 'wrote'}: {path}")
    return EXIT_FAILED if check and stale else EXIT_OK


if __name__ == "__main__":
    raise SystemExit(main())
