"""``crashcart run``: the whole harness in one command (see chaos/run/ and docs/report.md).

Exit codes: 0 every layer passed; 1 a test, a layer or the quality gate failed; 2 usage;
4 nothing meaningful ran (preflight failed, the platform did not come up); 75 another run
holds the lock; 130 interrupted (faults removed, processes stopped, partial report built).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from chaos.run import layers
from chaos.run.report import ReportPaths
from chaos.topology import REPO_ROOT, Topology


def add_parser(subparsers: Any) -> None:
    names = ", ".join(layers.layer_names())
    parser = subparsers.add_parser(
        "run", help="preflight, platform up (or reuse), every layer, the Allure report",
        description="Run the harness layers in order against one platform instance and build "
                    f"the Allure report. Layers: {names}.")
    parser.add_argument("--profile", choices=layers.PROFILES, default=layers.DEFAULT,
                        help="quick: unit, contracts, platform without slow tests; default: "
                             "every layer of the default test run; full: also campaigns and "
                             "the report's own tests (default: default)")
    parser.add_argument("--only", action="append", default=[], metavar="LAYER",
                        help="run only this layer (repeatable; any profile)")
    parser.add_argument("--skip", action="append", default=[], metavar="LAYER",
                        help="leave this layer out (repeatable)")
    parser.add_argument("--keep-up", action="store_true",
                        help="leave the platform running if this run started it")
    parser.add_argument("--seed", type=int, default=None,
                        help="seed for every layer ($CRASHCART_SEED, --hypothesis-seed); "
                             "default: random, printed")
    parser.add_argument("--results-dir", type=Path, default=None,
                        help="Allure results (default: allure-results/)")
    parser.add_argument("--report-dir", type=Path, default=None,
                        help="HTML report (default: allure-report/)")
    parser.add_argument("--history", type=Path, default=None,
                        help="Allure history file kept across runs "
                             "(default: allure-history/history.jsonl)")
    parser.add_argument("--report-only", action="store_true",
                        help="only build the report from the existing results")
    parser.add_argument("--pytest-arg", action="append", default=[], metavar="ARG",
                        help="extra argument for every layer's pytest (repeatable), "
                             "e.g. --pytest-arg=-x")
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace, topology: Topology) -> int:
    from chaos.run.orchestrator import EXIT_USAGE, Orchestrator, RunOptions

    defaults = ReportPaths.default(REPO_ROOT)
    paths = ReportPaths(
        results=(args.results_dir or defaults.results).resolve(),
        report=(args.report_dir or defaults.report).resolve(),
        history=(args.history or defaults.history).resolve())
    try:
        layers.select(args.profile, args.only, args.skip)
    except layers.UnknownLayer as exc:
        print(f"crashcart run: {exc}")
        return EXIT_USAGE
    options = RunOptions(profile=args.profile, only=args.only, skip=args.skip,
                         keep_up=args.keep_up, seed=args.seed, paths=paths,
                         report_only=args.report_only, pytest_args=args.pytest_arg)
    return Orchestrator(topology, args.state_dir, options).run()
