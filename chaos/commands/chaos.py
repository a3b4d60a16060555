"""``crashcart chaos``: run a declarative experiment file; list the fault and invariant units.

``crashcart chaos run FILE [--journal PATH] [--seed N]`` exits 0 when the experiment
completed with every invariant holding, 1 when it deviated or failed, 2 on a bad file,
3 when the steady state was not met before the method (aborted) or the platform does not
answer at all (nothing run), 130 when interrupted
(rollbacks ran; SIGTERM is treated as Ctrl-C).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from chaos.commands.common import NOT_UP, USAGE, fail, platform_missing, sigterm_as_interrupt
from chaos.topology import Topology


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser("chaos", help="run chaos experiments (chaos run FILE)")
    sub = parser.add_subparsers(dest="chaos_command", required=True, metavar="ACTION")
    run = sub.add_parser("run", help="run an experiment file (YAML or JSON)")
    run.add_argument("file", type=Path)
    run.add_argument("--journal", type=Path, default=None,
                     help="where the JSON journal goes (default: <state dir>/chaos/journals/)")
    run.add_argument("--seed", type=int, default=None, help="override the experiment's seed")
    run.set_defaults(handler=handle_run)
    listing = sub.add_parser("list", help="the fault kinds and invariants")
    listing.set_defaults(handler=handle_list)
    from chaos.commands import chaos_matrix

    chaos_matrix.add_parsers(sub)


def handle_run(args: argparse.Namespace, topology: Topology) -> int:
    from chaos.experiments import ExperimentError, load_experiment, run_experiment
    from chaos.faults import FaultContext

    try:
        experiment = load_experiment(args.file)
    except (OSError, ExperimentError) as exc:
        fail("run", str(exc))
        return USAGE
    if args.seed is not None:
        experiment.seed = args.seed
    sigterm_as_interrupt()
    ctx = FaultContext.from_environment(args.state_dir)
    if platform_missing("run", ctx):
        return NOT_UP
    print(f"experiment: {experiment.title} (seed {experiment.seed})", flush=True)
    try:
        result = run_experiment(experiment, ctx=ctx, journal_path=args.journal,
                                progress=lambda line: print(f"  {line}", flush=True))
    except KeyboardInterrupt:
        fail("run", "interrupted; rollbacks ran")
        return 130
    recovery = result.journal.recovery.get("recovery_s")
    shown = f"{recovery:.1f}s" if recovery is not None else "not reached"
    print(f"status: {result.journal.status}; recovery: {shown}")
    if result.journal.status == "aborted":
        return 3
    return 0 if result.ok else 1


def handle_list(args: argparse.Namespace, topology: Topology) -> int:
    import dataclasses

    from chaos.faults import FAULTS
    from chaos.invariants import INVARIANTS

    print("faults:")
    for kind, cls in sorted(FAULTS.items()):
        fields = ", ".join(f.name for f in dataclasses.fields(cls))
        print(f"  {kind:24} {fields}")
    print("invariants:")
    for name, unit in INVARIANTS.items():
        print(f"  {name:24} {unit.guards}")
    return 0
