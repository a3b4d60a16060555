"""``crashcart heal``: remove every fault any run left (ledger records, toxics, disabled
proxies) and resume or restart every paused or dead component of the platform.

Exit codes: 0 healed (or nothing to heal); 1 something could not be undone (named).
"""

from __future__ import annotations

import argparse
from typing import Any

from chaos.topology import Topology


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "heal", help="remove every fault any run left and resume/restart components",
        description="Undo every fault recorded in the state dir's ledger (whatever run set "
                    "it), reset the Toxiproxy mesh and resume or start every component.")
    parser.add_argument("--no-mesh", action="store_true", help="leave the mesh as it is")
    parser.add_argument("--no-processes", action="store_true",
                        help="leave the components as they are")
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace, topology: Topology) -> int:
    from chaos.faults import FaultContext, heal_everything

    ctx = FaultContext.from_environment(args.state_dir)
    try:
        report = heal_everything(ctx, mesh=not args.no_mesh, processes=not args.no_processes)
    finally:
        ctx.close()
    for line in report.undone:
        print(f"undone: {line}")
    if report.mesh_reset:
        print(f"mesh reset: every proxy enabled, every toxic removed ({ctx.toxiproxy_url})")
    for name in report.components:
        print(f"component healed: {name}")
    for error in report.errors:
        print(f"crashcart heal: {error}")
    if not (report.undone or report.components):
        print("crashcart heal: no recorded fault left")
    return 0 if report.clean else 1
