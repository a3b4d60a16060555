"""``crashcart chaos matrix | replay | shrink`` (sub-actions of ``crashcart chaos``).

``matrix [--full] [--repeat N] [--seed N] [--only PATTERN ...] [--json PATH]
[--extra-instance PORT_OFFSET ...] [--shard K/N]``: the default tier is the covering
selection (every edge, fault, phase and service once, ~2-4 min); ``--extra-instance`` splits
the cells over more platform instances (brought up and down here), ``--shard`` runs one
share. Exit 0 when no cell breached an invariant, 1 otherwise, 2 for a usage error (on
stderr), 3 when the platform does not answer (nothing run), 130 when interrupted (the cells done so far are still written). ``replay JOURNAL``: re-run a journal's experiment with its seed and fault
schedule; exit 0 when it completed, 1 when it deviated (it says whether that is the
recorded outcome), 3 when the platform does not answer. ``shrink JOURNAL``: reduce a failing journal's schedule (each trial a real
run) and write the minimal one as a replayable journal.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path
from typing import Any

from chaos.commands.common import (
    NOT_UP,
    USAGE,
    fail,
    load_journal_or_none,
    platform_missing,
    sigterm_as_interrupt,
)
from chaos.topology import Topology


def add_parsers(sub: Any) -> None:
    matrix = sub.add_parser("matrix", help="the fault matrix (default: covering selection)")
    matrix.add_argument("--full", action="store_true",
                        help="every cell: edges x faults x phases + process faults")
    matrix.add_argument("--repeat", type=int, default=1, metavar="N",
                        help="N seeds per cell; reports failure probability (Wilson 95%%)")
    matrix.add_argument("--seed", type=int, default=1, help="base seed (default 1, fixed)")
    matrix.add_argument("--only", action="append", default=[], metavar="PATTERN",
                        help="cells whose id matches (e.g. '*_to_db:*', 'payment:kill@*')")
    matrix.add_argument("--json", type=Path, default=None,
                        help="where the JSON result goes (default: <state dir>/chaos/matrix/)")
    matrix.add_argument("--list", action="store_true", help="print the cells, run nothing")
    matrix.add_argument("--extra-instance", action="append", type=int, default=[],
                        metavar="PORT_OFFSET",
                        help="also run on a platform instance at this port offset (brought "
                             "up and down here; state dir, database suffix and vhost derived "
                             "with -w<k>): the cells are split between the instances")
    matrix.add_argument("--shard", default=None, metavar="K/N",
                        help="only shard K of N (balanced by estimated time); what "
                             "--extra-instance runs on each instance")
    matrix.set_defaults(handler=handle_matrix)
    replay = sub.add_parser("replay", help="re-run a journal with its seed and fault schedule")
    replay.add_argument("journal", type=Path)
    replay.add_argument("--out", type=Path, default=None, help="journal of the replay")
    replay.set_defaults(handler=handle_replay)
    shrink = sub.add_parser("shrink", help="shrink a failing journal's fault schedule")
    shrink.add_argument("journal", type=Path)
    shrink.add_argument("--invariant", default=None,
                        help="the invariant to keep failing (default: the first that failed)")
    shrink.add_argument("--out", type=Path, default=None, help="the minimal journal")
    shrink.set_defaults(handler=handle_shrink)


def _shard(text: str) -> tuple[int, int]:
    index, _, count = text.partition("/")
    k, n = int(index), int(count)
    if not 0 <= k < n:
        raise ValueError(f"shard {text}: want K/N with 0 <= K < N")
    return k, n


def handle_matrix(args: argparse.Namespace, topology: Topology) -> int:
    from chaos.faults import FaultContext
    from chaos.matrix import covering_matrix, full_matrix, select
    from chaos.matrix.run import shard

    ctx = FaultContext.from_environment(args.state_dir)
    cells = select(full_matrix(ctx.topology) if args.full else covering_matrix(ctx.topology),
                   args.only)
    if args.shard:
        try:
            cells = shard(cells, *_shard(args.shard))
        except ValueError as exc:
            fail("matrix", str(exc))
            return USAGE
    if args.list:
        for cell in cells:
            print(f"{cell.id:48} {cell.window_s:>5g}s  {cell.fault_spec}")
        print(f"{len(cells)} cells, {sum(c.window_s for c in cells):g}s of fault windows")
        return 0
    if not cells:
        in_full = len(select(full_matrix(ctx.topology), args.only)) if not args.full else 0
        fail("matrix", "no cell matches" + (f" in the covering tier; {in_full} cell(s) of the "
                                            "full matrix do (add --full)" if in_full else ""))
        return USAGE
    sigterm_as_interrupt()
    out_dir = ctx.state_dir / "chaos" / "matrix" / time.strftime("%Y%m%dT%H%M%S")
    out = args.json or out_dir / "matrix.json"
    if args.extra_instance:
        return _parallel(args, cells, out_dir, out)
    if platform_missing("matrix", ctx):
        return NOT_UP
    return _serial(args, cells, ctx, out_dir, out)


def _serial(args: argparse.Namespace, cells: list[Any], ctx: Any, out_dir: Path,
            out: Path) -> int:
    from chaos.experiments.journal import iso
    from chaos.matrix import run_matrix
    from chaos.matrix.report import CellResult

    tier = "full" if args.full else "covering"
    print(f"matrix ({tier}{', shard ' + args.shard if args.shard else ''}): {len(cells)} "
          f"cells x {args.repeat} seed(s), base seed {args.seed}", flush=True)
    started, began = iso(time.time()), time.monotonic()
    results: list[CellResult] = []
    interrupted = False
    try:
        run_matrix(cells, ctx, base_seed=args.seed, repeat=max(1, args.repeat),
                   journal_dir=out_dir, results=results,
                   progress=lambda line: print(line, flush=True)
                   if not line.startswith("    ") else None)
    except KeyboardInterrupt:
        interrupted = True
    return _report(args, results, cells, out, started=started,
                   duration_s=time.monotonic() - began, interrupted=interrupted)


def _parallel(args: argparse.Namespace, cells: list[Any], out_dir: Path, out: Path) -> int:
    from chaos.experiments.journal import iso
    from chaos.matrix.parallel import bring_down, bring_up, instances, run_shards
    from chaos.matrix.report import results_from_document

    pool = instances(dict(os.environ), args.extra_instance)
    print(f"matrix ({'full' if args.full else 'covering'}): {len(cells)} cells on "
          f"{len(pool)} instances, base seed {args.seed}", flush=True)
    started, began = iso(time.time()), time.monotonic()
    shard_args = ([*(["--full"] if args.full else [])] + ["--seed", str(args.seed),
                  "--repeat", str(args.repeat)] + [a for p in args.only for a in ("--only", p)])
    out_dir.mkdir(parents=True, exist_ok=True)
    brought: list[Any] = []
    parts: list[dict[str, Any]] = []
    interrupted = False
    try:
        for instance in pool[1:]:
            brought.append(instance)
            bring_up(instance, _say)
        parts, interrupted = run_shards(shard_args, pool, out_dir, _say)
    except KeyboardInterrupt:
        interrupted = True
    finally:
        for instance in brought:
            bring_down(instance, _say)
    by_id = {cell.id: cell for cell in cells}
    results = [r for part in parts for r in results_from_document(part, by_id)]
    return _report(args, results, cells, out, started=started,
                   duration_s=time.monotonic() - began, interrupted=interrupted,
                   instances=len(pool))


def _say(line: str) -> None:
    print(line, flush=True)


def _report(args: argparse.Namespace, results: list[Any], cells: list[Any], out: Path, *,
            started: str, duration_s: float, interrupted: bool, instances: int = 1) -> int:
    from chaos.matrix import table
    from chaos.matrix.report import document, write

    doc = document(results, tier="full" if args.full else "covering", base_seed=args.seed,
                   repeat=args.repeat, started_at=started, duration_s=duration_s,
                   complete=not interrupted and len(results) == len(cells))
    doc["instances"] = instances
    doc["load_average"] = [round(x, 2) for x in os.getloadavg()]
    write(doc, out)
    print(table(results))
    print(f"json: {out}  ({len(results)}/{len(cells)} cells, {doc['duration_s']}s)")
    if interrupted:
        fail("matrix", "interrupted; rollbacks ran, partial result written")
        return 130
    return 1 if doc["cells_failing"] else 0


def handle_replay(args: argparse.Namespace, topology: Topology) -> int:
    from chaos.experiments import run_experiment
    from chaos.faults import FaultContext
    from chaos.matrix.replay import same_outcome

    recorded = load_journal_or_none("replay", args.journal)
    if recorded is None:
        return USAGE
    sigterm_as_interrupt()
    ctx = FaultContext.from_environment(args.state_dir)
    if platform_missing("replay", ctx):
        return NOT_UP
    experiment = recorded.experiment
    print(f"replay: {experiment.title} (seed {experiment.seed}; recorded {recorded.status}"
          + (f", failed {', '.join(recorded.failed_invariants)}"
             if recorded.failed_invariants else "") + ")", flush=True)
    try:
        result = run_experiment(experiment, ctx=ctx, journal_path=args.out,
                                progress=lambda line: print(f"  {line}", flush=True))
    except KeyboardInterrupt:
        fail("replay", "interrupted; rollbacks ran")
        return 130
    replayed = result.journal.as_json()
    same = same_outcome(recorded, replayed)
    print(f"status: {result.journal.status}; "
          f"{'same outcome as recorded' if same else 'DIFFERENT outcome from the recording'}")
    return 0 if result.ok else 1


def handle_shrink(args: argparse.Namespace, topology: Topology) -> int:
    from chaos.experiments import run_experiment
    from chaos.faults import FaultContext
    from chaos.matrix.shrink import experiment_oracle, shrink

    recorded = load_journal_or_none("shrink", args.journal)
    if recorded is None:
        return USAGE
    invariant: str | None = args.invariant or next(iter(recorded.failed_invariants), None)
    if invariant is None:
        fail("shrink", "the journal shows no failed invariant")
        return USAGE
    sigterm_as_interrupt()
    ctx = FaultContext.from_environment(args.state_dir)
    if platform_missing("shrink", ctx):
        return NOT_UP
    oracle = experiment_oracle(lambda e: run_experiment(e, ctx=ctx).journal.as_json())
    try:
        result = shrink(recorded.experiment, invariant, oracle,
                        proxy_names=ctx.topology.proxy_names,
                        progress=lambda line: print(f"  {line}", flush=True))
    except ValueError as exc:
        fail("shrink", str(exc))
        return 1
    out = args.out or args.journal.with_name(args.journal.stem + "-shrunk.json")
    result.write(out)
    print(f"shrunk {len(result.trials)} trials: {result.journal()['faults_before']} -> "
          f"{result.journal()['faults_after']} faults; journal: {out}")
    return 0
