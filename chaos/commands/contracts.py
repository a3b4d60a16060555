"""``crashcart contracts``: the contract layer alone.

* ``verify`` — run the consumer pact tests (they rebuild the pact folder from clean), start the
  four providers in contract-test mode, verify every pact (HTTP and messages) and print one
  line per interaction; then the drift checks. Exit 0 only if every interaction passed and
  there was at least one.
* ``openapi [--update]`` — compare each served OpenAPI document with its reviewed copy
  (breaking / non-breaking per difference); ``--update`` writes the served ones on purpose.
* ``publish`` / ``can-i-deploy`` — through the Pact Broker when ``PACT_BROKER_BASE_URL`` is
  set; otherwise one line saying so and exit 1.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from chaos.topology import REPO_ROOT, Topology

EXIT_OK, EXIT_FAILED = 0, 1


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "contracts", help="consumer-driven contracts: verify, publish, can-i-deploy",
        description="Pact contracts between the services (HTTP and saga messages).")
    sub = parser.add_subparsers(dest="contracts_command", required=True, metavar="ACTION")
    verify = sub.add_parser("verify", help="rebuild the pacts, verify every provider, "
                                           "print one line per interaction")
    verify.add_argument("--pacts", type=Path, default=None,
                        help="pact folder (default: $CRASHCART_PACTS_DIR or contracts/pacts)")
    verify.add_argument("--provider", action="append", default=None,
                        help="verify only this provider (repeatable), e.g. order-service")
    verify.add_argument("--no-consumers", action="store_true",
                        help="verify the pact files as they are (do not rebuild them)")
    verify.add_argument("--no-drift", action="store_true",
                        help="skip the OpenAPI/AsyncAPI drift checks")
    verify.set_defaults(handler=handle_verify)
    openapi = sub.add_parser("openapi", help="compare the served OpenAPI documents with the "
                                             "reviewed copies in contracts/openapi/")
    openapi.add_argument("--update", action="store_true",
                         help="after review: write the served documents as the new copies")
    openapi.set_defaults(handler=handle_openapi)
    publish = sub.add_parser("publish", help="publish the pact files to the Pact Broker")
    publish.add_argument("--pacts", type=Path, default=None)
    publish.add_argument("--version", default=None, help="consumer version (default: git HEAD)")
    publish.add_argument("--branch", default=None, help="branch (default: the git branch)")
    publish.set_defaults(handler=handle_publish)
    gate = sub.add_parser("can-i-deploy", help="ask the Pact Broker whether a version may ship")
    gate.add_argument("--pacticipant", required=True, help="e.g. order-service, storefront")
    gate.add_argument("--version", default=None, help="default: git HEAD")
    gate.add_argument("--to-environment", default=None, help="e.g. production")
    gate.add_argument("--retry-while-unknown", type=int, default=0)
    gate.set_defaults(handler=handle_can_i_deploy)


def _pacts(args: argparse.Namespace) -> Path:
    from contracts.pactkit import pacts_dir

    return Path(args.pacts) if args.pacts else pacts_dir()


def handle_verify(args: argparse.Namespace, topology: Topology) -> int:
    from contracts.messages import message_producer
    from contracts.pactkit import PROVIDERS, pact_files
    from contracts.providers import default_log_dir, run_providers
    from contracts.verify import verify_provider

    os.environ.setdefault("PACT_DO_NOT_TRACK", "true")
    pacts = _pacts(args)
    if not args.no_consumers:
        print(f"consumer tests: rebuilding {pacts} ...", flush=True)
        env = {**os.environ, "CRASHCART_PACTS_DIR": str(pacts)}
        run = subprocess.run([sys.executable, "-m", "pytest", "contracts", "-q",
                              "-p", "no:cacheprovider"],
                             cwd=REPO_ROOT, env=env, capture_output=True, text=True)
        summary = (run.stdout.strip().splitlines() or ["(no output)"])[-1]
        print(f"consumer tests: {summary}")
        if run.returncode != 0:
            print(run.stdout[-4000:], file=sys.stderr)
            return EXIT_FAILED
    if not pact_files(pacts):
        print(f"FAIL no pact files in {pacts}: an empty pact folder never passes")
        return EXIT_FAILED
    providers = args.provider or list(PROVIDERS)
    unknown = sorted(set(providers) - set(PROVIDERS))
    if unknown:
        print(f"crashcart contracts: unknown provider(s) {', '.join(unknown)} "
              f"(known: {', '.join(PROVIDERS)})", file=sys.stderr)
        return EXIT_FAILED
    verified = failed = 0
    with run_providers(topology, log_dir=default_log_dir(), instance="_cli",
                       only=providers) as running:
        for provider in providers:
            report = verify_provider(provider, pacts, url=running[provider].url,
                                     messages=message_producer(provider), quiet=True)
            for line in report.lines():
                print(line)
            verified += len(report.interactions)
            failed += sum(not i.passed for i in report.interactions) + (not report.passed)
        urls = {name: running[name].url for name in providers}
        drift_failed = 0 if args.no_drift else _drift(pacts, topology, urls)
    print(f"{verified} interaction(s) verified, "
          f"{'all passed' if not failed else 'FAILURES'}; drift checks "
          f"{'skipped' if args.no_drift else ('passed' if not drift_failed else 'FAILED')}")
    return EXIT_OK if verified and not failed and not drift_failed else EXIT_FAILED


def _drift(pacts: Path, topology: Topology, urls: dict[str, str]) -> int:
    """Drift checks (pacts vs served OpenAPI and AsyncAPI, served OpenAPI vs the reviewed
    copies); one line per finding; returns the number of failures."""
    from contracts.drift import run_drift_checks, served_openapi
    from contracts.openapi_review import review

    findings = run_drift_checks(pacts, topology, urls)
    for finding in findings:
        print(finding.line())
    failures = sum(not f.passed for f in findings)
    for provider, url in urls.items():
        changes = review(provider, served_openapi(url))
        print(f"{'PASS' if not changes else 'FAIL'} drift/reviewed-openapi {provider}"
              + "".join(f"\n      {c.line()}" for c in changes))
        failures += bool(changes)
    return failures


def handle_openapi(args: argparse.Namespace, topology: Topology) -> int:
    from contracts.drift import served_openapi
    from contracts.openapi_review import review, write_reviewed
    from contracts.providers import default_log_dir, run_providers

    differing = 0
    with run_providers(topology, log_dir=default_log_dir(), instance="_cli") as running:
        for provider, proc in running.items():
            served = served_openapi(proc.url)
            changes = review(provider, served)
            for change in changes:
                print(f"{provider}: {change.line()}")
            if args.update and changes:
                print(f"{provider}: reviewed copy updated: {write_reviewed(provider, served)}")
            elif not changes:
                print(f"{provider}: served document equals the reviewed copy")
            differing += bool(changes)
    return EXIT_OK if args.update or not differing else EXIT_FAILED


def handle_publish(args: argparse.Namespace, topology: Topology) -> int:
    from contracts.broker import BrokerError, git_branch, git_version, publish_command

    try:
        command = publish_command(_pacts(args), version=args.version or git_version(),
                                  branch=args.branch or git_branch())
    except BrokerError as exc:
        print(f"crashcart contracts publish: {exc}", file=sys.stderr)
        return EXIT_FAILED
    return subprocess.run(command).returncode


def handle_can_i_deploy(args: argparse.Namespace, topology: Topology) -> int:
    from contracts.broker import BrokerError, can_i_deploy_command, git_version

    try:
        command = can_i_deploy_command(args.pacticipant, version=args.version or git_version(),
                                       to_environment=args.to_environment,
                                       retry_while_unknown=args.retry_while_unknown)
    except BrokerError as exc:
        print(f"crashcart contracts can-i-deploy: {exc}", file=sys.stderr)
        return EXIT_FAILED
    return subprocess.run(command).returncode
