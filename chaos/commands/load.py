"""``crashcart load``: a headless Locust run of the storefront journeys, judged by SLO gates,
optionally with a named fault applied at a time for a window.

    crashcart load --shape step --fault order_to_product:latency:800 --at 20 --for 15

Exit codes: 0 gates held (and, with a fault, the platform recovered and the business checks
passed); 1 a gate breached, no recovery or a business check failed; 2 a bad argument; 3 the
run is invalid (the load generator passed 90 % CPU). The Locust web UI is the ``locust``
command itself: ``locust -f load/locustfile.py --host <gateway>``.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chaos.topology import Topology

if TYPE_CHECKING:
    from locust import LoadTestShape

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "load", help="headless load run with SLO gates (and optionally a fault)")
    parser.add_argument("--host", default=None,
                        help="gateway URL (default: the running platform's, else the topology's)")
    parser.add_argument("--shape", default=None,
                        choices=["ramp", "step", "spike", "soak", "capacity"],
                        help="load shape (default: a constant number of users)")
    parser.add_argument("--user-class", choices=["shopper", "checkout"], default="shopper",
                        help="shopper: the weighted storefront mix; checkout: approved "
                             "checkouts back to back (capacity in checkouts/s)")
    parser.add_argument("-u", "--users", type=int, default=10,
                        help="users (the peak for a shape; the upper bound for capacity)")
    parser.add_argument("-r", "--spawn-rate", type=float, default=5.0, help="users started/s")
    parser.add_argument("-t", "--run-time", type=float, default=60.0, help="seconds")
    parser.add_argument("--slo-file", type=Path, default=None,
                        help="SLO gates TOML (default load/slo.toml; with --user-class "
                             "checkout, load/slo_checkout.toml)")
    parser.add_argument("--fault", default=None,
                        help="<proxy>:latency:<ms> | <proxy>:timeout:<ms> | "
                             "<proxy>:bandwidth:<KB/s> | <proxy>:reset_peer | <proxy>:down | "
                             "<service>:pause")
    parser.add_argument("--at", type=float, default=20.0, help="fault start, s into the run")
    parser.add_argument("--for", dest="for_s", type=float, default=15.0,
                        help="fault duration, s")
    parser.add_argument("--no-business", action="store_true",
                        help="skip the business checks after a fault run")
    parser.add_argument("--step-users", type=int, default=4, help="capacity: users per plateau")
    parser.add_argument("--step-seconds", type=float, default=15.0,
                        help="capacity: plateau length, s")
    parser.add_argument("--report-dir", type=Path, default=None,
                        help="write gates.json, stats.csv, failures.csv and report.html here")
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace, topology: Topology) -> int:
    from chaos.backends.local import LocalBackend
    from load.engine import LoadPlan, LoadResult, run_load
    from load.gates import CHECKOUT_GATES_FILE, GatesFileError, load_gates
    from load.journeys import CheckoutBuyer, Shopper
    from load.shapes import SHAPES, CapacityShape
    from load.under_fault import FaultSpec, FaultSpecError, run_under_fault

    backend = LocalBackend(topology, args.state_dir)
    state = backend.state.load()
    host = args.host or (state.gateway_url if state else topology.gateway_url)
    toxiproxy_url = state.toxiproxy_url if state else topology.toxiproxy_url
    try:
        gates = load_gates(args.slo_file or (CHECKOUT_GATES_FILE
                                             if args.user_class == "checkout" else None))
        spec = FaultSpec.parse(args.fault, topology) if args.fault else None
    except (GatesFileError, FaultSpecError) as exc:
        print(f"crashcart load: {exc}")
        return EXIT_USAGE
    shape: LoadTestShape | None = None
    if args.shape == "capacity":
        shape = CapacityShape(gates=gates, step_users=args.step_users, step_s=args.step_seconds,
                              peak_users=args.users, spawn_rate=args.spawn_rate,
                              duration_s=args.run_time)
    elif args.shape:
        shape = SHAPES[args.shape](peak_users=args.users, spawn_rate=args.spawn_rate,
                                   duration_s=args.run_time)
    user_class = CheckoutBuyer if args.user_class == "checkout" else Shopper
    plan = LoadPlan(host=host, users=args.users, spawn_rate=args.spawn_rate,
                    run_time_s=args.run_time, shape=shape, gates=gates, user_classes=[user_class])
    print(f"load: {args.shape or 'constant'} shape, {args.users} {user_class.__name__} users, "
          f"{args.run_time:g} s "
          f"against {host}" + (f"; fault {spec} at {args.at:g} s for {args.for_s:g} s"
                               if spec else ""), flush=True)
    failed = False
    if spec is not None:
        try:
            fault_report = run_under_fault(
                plan, spec, at_s=args.at, for_s=args.for_s, topology=topology,
                toxiproxy_url=toxiproxy_url, backend=backend if state else None, gates=gates,
                business=not args.no_business)
        except FaultSpecError as exc:
            print(f"crashcart load: {exc}")
            return EXIT_USAGE
        result: LoadResult = fault_report.load
        print(fault_report.table())
        failed = not fault_report.passed
    else:
        result = run_load(plan)
    if isinstance(shape, CapacityShape):
        print(shape.summary())
    print(result.report.table())
    if args.report_dir is not None:
        _write_reports(args.report_dir, result)
    code = result.report.exit_code
    return EXIT_FAILED if failed and code == EXIT_OK else code


def _write_reports(directory: Path, result: Any) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "gates.json").write_text(result.report.to_json())
    (directory / "stats.csv").write_text(result.stats_csv)
    (directory / "failures.csv").write_text(result.failures_csv)
    (directory / "report.html").write_text(result.html)
    print(f"reports in {directory}")
