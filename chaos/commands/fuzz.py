"""``crashcart fuzz``: a seeded Schemathesis campaign against the running platform.

Default budget: the default test tier's (~300 examples per operation and phase); ``--deep``:
at least 10,000 generated cases per service (``--examples`` overrides). Reports per service
under ``--out`` (JUnit, Allure results, VCR cassette, JSON, and a pytest file that replays
every failure: the one command to replay is printed). ``--update-baseline`` records the
current failures as known (chaos/fuzz/baselines/); later runs fail on new failures only.

Exit codes: 0 no new failure; 1 new failures (each service's replay command printed);
2 the platform is not reachable.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from chaos.topology import Topology

SERVICES = ("user", "product", "order", "payment")
DEFAULT_EXAMPLES = 300


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "fuzz", help="seeded Schemathesis campaign against the running platform",
        description="Fuzz every service's OpenAPI document (all checks, identities alice, "
                    "bob and admin) with a fixed seed; reports and replay per service.")
    parser.add_argument("--deep", action="store_true",
                        help="deep campaign: at least 10,000 generated cases per service (the "
                             "examples per operation are sized from each document)")
    parser.add_argument("--examples", type=int, default=None,
                        help="examples per operation and phase (overrides --deep)")
    parser.add_argument("--seed", type=int, default=20261127)
    parser.add_argument("--service", action="append", choices=SERVICES, dest="services",
                        help="fuzz only this service (repeatable; default: all)")
    parser.add_argument("--route", action="append", choices=("direct", "gateway"),
                        dest="routes", help="direct (service port) and/or gateway "
                                            "(default: direct)")
    parser.add_argument("--out", type=Path, default=None,
                        help="report directory (default: <state dir>/fuzz/<timestamp>)")
    parser.add_argument("--update-baseline", action="store_true",
                        help="record this run's failures as known")
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace, topology: Topology) -> int:
    import httpx

    from chaos.fuzz.campaign import DEEP_MIN_CASES, run_campaign
    from chaos.fuzz.wfc import Credentials

    gateway = topology.gateway_url.rstrip("/")
    try:
        httpx.get(f"{gateway}/health", timeout=5.0)
    except httpx.HTTPError as exc:
        print(f"crashcart fuzz: the platform does not answer at {gateway}: {exc}")
        return 2
    examples = args.examples or (None if args.deep else DEFAULT_EXAMPLES)
    import os

    state_dir = Path(args.state_dir or os.environ.get("CRASHCART_STATE_DIR") or ".crashcart")
    out = args.out or state_dir / "fuzz" / time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    settings = topology.settings
    results = run_campaign(
        services=args.services or SERVICES, service_urls=dict(topology.service_urls),
        gateway_url=gateway, routes=args.routes or ("direct",), seed=args.seed,
        max_examples=examples, out=out.resolve(),
        admin=Credentials(settings.admin_email, settings.admin_password),
        update_baseline=args.update_baseline)
    budget = f"{examples} examples" if examples else "deep budget (>= 10,000 cases/service)"
    print(f"seed {args.seed}, {budget}; reports in {out}")
    failed = False
    for result in results:
        if args.deep and result.cases < DEEP_MIN_CASES:
            print(f"{result.service}: only {result.cases} cases (< {DEEP_MIN_CASES}); "
                  "raise --examples")
            failed = True
        if not result.ok:
            failed = True
            print(f"{result.service} ({result.route}): {len(result.new_failures)} new "
                  f"failure(s); output in {result.report_dir}/output.txt")
            for line in result.replay:
                print(f"  replay: {line}")
    return 1 if failed else 0
