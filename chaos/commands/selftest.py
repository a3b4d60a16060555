"""``crashcart selftest``: plant each catalogued defect in a copy and see which layer catches it.

Exit codes: 0 every defect run was caught (or ``--baseline``/``--list``/``--check`` passed);
1 a defect escaped, a patch no longer applies or the baseline failed; 2 usage (unknown
defect or layer); 130 interrupted (the copy and its instance are removed).
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import time
from pathlib import Path
from typing import Any

from chaos.topology import REPO_ROOT, Topology

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "selftest", help="plant catalogued platform defects in copies; report which layer "
                         "caught each (docs/selftest.md)",
        description="Each defect of chaos/selftest/catalogue.py is patched into a temporary "
                    "copy of the repository, which runs its own platform instance (port "
                    "offset 7000, suffix _st, vhost crashcart_st); the default run's layers "
                    "run there in order with -x until one fails.")
    parser.add_argument("--list", action="store_true", help="list the catalogue and exit")
    parser.add_argument("--check", action="store_true",
                        help="only check that every patch applies to platform/ exactly once")
    parser.add_argument("--only", action="append", default=[], metavar="DEFECT",
                        help="run only this defect (repeatable)")
    parser.add_argument("--layer", action="append", default=[], metavar="LAYER",
                        help="use only this layer (repeatable; default: "
                             "unit, contracts, platform, security, runtime (gateway on the "
                             "session platform only), fuzz, chaos, load)")
    parser.add_argument("--all-layers", action="store_true",
                        help="run every layer for each defect (detection matrix) instead of "
                             "stopping at the first that catches it")
    parser.add_argument("--baseline", action="store_true",
                        help="run the layers on an unpatched copy (must pass) and exit")
    parser.add_argument("--cost-order", action="store_true",
                        help="every defect meets the layers in cost order (default: the "
                             "layers the catalogue expects to catch it first, then the rest)")
    parser.add_argument("--working-tree", action="store_true",
                        help="copy the working tree as it is (uncommitted edits included) "
                             "instead of the committed HEAD")
    parser.add_argument("--no-confirm", action="store_true",
                        help="count a failure as a detection without re-running the failing "
                             "test on the unpatched reference copy (offset 7500)")
    parser.add_argument("--results", type=Path, default=None,
                        help="JSON result file (default: .crashcart/selftest/results.json)")
    parser.set_defaults(handler=handle)


def _print(line: str) -> None:
    print(f"{time.strftime('%H:%M:%S')} {line}", flush=True)


def handle(args: argparse.Namespace, topology: Topology) -> int:
    from chaos.run import layers
    from chaos.selftest import catalogue
    from chaos.selftest.runner import SELFTEST_LAYERS, Runner
    from chaos.selftest.workspace import patch_problems

    try:
        chosen = [catalogue.by_id(d) for d in args.only] if args.only else \
            list(catalogue.DEFECTS)
        layer_names = tuple(args.layer) or SELFTEST_LAYERS
        for name in layer_names:
            layers.by_name(name)
    except (catalogue.UnknownDefect, layers.UnknownLayer) as exc:
        print(f"crashcart selftest: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if args.list:
        for d in chosen:
            print(f"{d.id:28} {d.category:32} {d.description}")
        return EXIT_OK
    problems = [p for d in chosen for p in patch_problems(d, REPO_ROOT / "platform")]
    for problem in problems:
        print(f"crashcart selftest: patch does not apply: {problem}", file=sys.stderr)
    if problems or args.check:
        if not problems:
            print(f"crashcart selftest: all {len(chosen)} defects apply")
        return EXIT_FAILED if problems else EXIT_OK
    results_path = (args.results or REPO_ROOT / ".crashcart" / "selftest" / "results.json").resolve()
    log_dir = results_path.parent / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    runner = Runner(layer_names, all_layers=args.all_layers, log_dir=log_dir, progress=_print,
                    revision=None if args.working_tree else "HEAD",
                    confirm=not args.no_confirm, expected_first=not args.cost_order)
    previous = signal.signal(signal.SIGINT, lambda *_: runner.interrupt())
    try:
        if args.baseline:
            result = runner.run(None)
            _write(results_path, [result.as_json()], layer_names, baseline=True)
            clean = all(layer.status == "passed" for layer in result.layers) and \
                result.caught_by is None
            _print(f"baseline {'clean' if clean else 'FAILED: ' + str(result.failing_test)}")
            return EXIT_INTERRUPTED if runner.interrupted else (EXIT_OK if clean else EXIT_FAILED)
        results = []
        for defect in chosen:
            if runner.interrupted:
                break
            result = runner.run(defect)
            results.append(result)
            _write(results_path, [r.as_json() for r in results], layer_names, baseline=False)
            verdict = (f"caught by {result.caught_by} in {result.seconds_to_detection:.0f}s"
                       f" ({result.failing_test})" if result.caught else
                       "interrupted" if runner.interrupted else
                       f"NOT RUN: {result.note[:300]}" if result.note else "ESCAPED")
            _print(f"[{defect.id}] {verdict}")
    finally:
        runner.close()
        signal.signal(signal.SIGINT, previous)
    if runner.interrupted:
        return EXIT_INTERRUPTED
    caught = sum(r.caught for r in results)
    _print(f"detection score: {caught}/{len(results)}; results in {results_path}")
    escapes = [r.defect for r in results if not r.caught]  # a platform that did not start too
    if escapes:
        _print("escapes: " + ", ".join(escapes))
    return EXIT_OK if not escapes else EXIT_FAILED


def _write(path: Path, results: list[dict[str, object]], layer_names: tuple[str, ...], *,
           baseline: bool) -> None:
    from chaos.run.environment import git_commit

    path.parent.mkdir(parents=True, exist_ok=True)
    document = {"commit": git_commit(), "date": time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                                              time.gmtime()),
                "baseline": baseline, "layers": list(layer_names), "results": results,
                "caught": sum(1 for r in results if r.get("caught_by")),
                "total": len(results)}
    path.write_text(json.dumps(document, indent=2), encoding="utf-8")
