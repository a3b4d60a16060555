"""A fuzzing campaign: `st run` per service against a running platform, seeded, with JUnit,
Allure, VCR cassettes, JSON and a pytest file that replays each failure, gated by a
known-failure baseline per service (only new failures fail the campaign).

The default test tier (suites/fuzz) keeps each run small; a campaign is the same engine and
checks with a budget of thousands of cases per service (`--deep`: at least 10,000).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from chaos.fuzz.wfc import Credentials, register_peers, write_wfc_file

CONFIG_FILE = Path(__file__).with_name("schemathesis-deep.toml")
BASELINE_DIR = Path(__file__).with_name("baselines")
HOOKS = "chaos.fuzz.hooks_catalog"
#: Identity each service is fuzzed as: the admin owns the catalog's write operations.
IDENTITY = {"user": "alice", "product": "admin", "order": "alice", "payment": "alice"}
#: Tags the gateway does not route.
GATEWAY_HIDDEN_TAGS = ("internal",)
DEEP_MIN_CASES = 10_000
CASES_PER_EXAMPLE_AND_OPERATION = 1.0
"""Measured on these documents (coverage + fuzzing + stateful): 1.03 (user-service, 2,322
examples -> 9,583 cases) to 2 cases per example and operation; a deep budget aims 8 % above
the minimum with the low end."""
DEEP_MARGIN = 1.08
_HTTP_METHODS = {"get", "put", "post", "delete", "patch"}


def operation_count(service_url: str, route: str) -> int:
    import httpx

    document = httpx.get(f"{service_url}/openapi.json", timeout=10.0).raise_for_status().json()
    return sum(1 for item in document.get("paths", {}).values()
               for method, op in item.items()
               if method in _HTTP_METHODS and not (
                   route == "gateway" and set(op.get("tags", [])) & set(GATEWAY_HIDDEN_TAGS)))


def deep_examples(service_url: str, route: str, min_cases: int = DEEP_MIN_CASES) -> int:
    """Examples per operation and phase that give at least `min_cases` generated cases."""
    operations = max(1, operation_count(service_url, route))
    return int(min_cases * DEEP_MARGIN / (CASES_PER_EXAMPLE_AND_OPERATION * operations)) + 1


@dataclass(slots=True)
class ServiceResult:
    """One service's run: what was generated, what failed, where the evidence is."""

    service: str
    route: str
    seed: int
    max_examples: int
    exit_code: int
    cases: int
    seconds: float
    new_failures: list[dict[str, Any]] = field(default_factory=list)
    known_failures: int = 0
    report_dir: str = ""
    replay: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.exit_code == 0


def st_executable() -> str:
    beside = Path(sys.executable).with_name("st")
    found = str(beside) if beside.exists() else shutil.which("st")
    if found is None:
        raise RuntimeError("the Schemathesis CLI `st` is not installed in this environment")
    return found


def catalog_ids(gateway_url: str) -> str:
    import httpx

    items = httpx.get(f"{gateway_url}/api/v1/products", params={"limit": 50},
                      timeout=10.0).raise_for_status().json()["items"]
    return ",".join(str(p["id"]) for p in items if p["stock"] > 100)


def st_command(*, schema_url: str, base_url: str, seed: int, max_examples: int,
               out: Path, baseline: Path | None, update_baseline: bool,
               exclude_tags: Sequence[str]) -> list[str]:
    command = [
        st_executable(), "--config-file", str(CONFIG_FILE), "run", schema_url,
        "--url", base_url, "--checks", "all", "--seed", str(seed),
        "--max-examples", str(max_examples),
        "--report", "junit,allure,vcr,json,pytest", "--report-dir", str(out),
        "--report-junit-path", str(out / "junit.xml"),
        "--report-json-path", str(out / "report.json"),
        "--report-vcr-path", str(out / "cassette.yaml"),
        "--report-allure-path", str(out / "allure-results"),
        "--report-pytest-path", str(out / "test_replay_failures.py"),
    ]
    for tag in exclude_tags:
        command += ["--exclude-tag", tag]
    if baseline is not None:
        command += ["--baseline", str(baseline)]
        if update_baseline:
            command.append("--baseline-update")
    return command


def run_service(*, service: str, service_url: str, gateway_url: str, route: str, seed: int,
                max_examples: int, identities: dict[str, Credentials], out: Path,
                update_baseline: bool = False, baseline_dir: Path = BASELINE_DIR,
                timeout_s: float = 3 * 3600) -> ServiceResult:
    out.mkdir(parents=True, exist_ok=True)
    base_url = service_url if route == "direct" else gateway_url
    # Log in where a client of this route would: user-service itself, or the gateway.
    login_base = service_url if service == "user" and route == "direct" else gateway_url
    wfc = write_wfc_file(out / "auth.wfc.json", identities, login_base)
    baseline = baseline_dir / f"{service}-{route}.json"
    use_baseline = baseline.exists() or update_baseline
    if update_baseline:
        baseline.parent.mkdir(parents=True, exist_ok=True)  # st writes the file itself
    command = st_command(
        schema_url=f"{service_url}/openapi.json", base_url=base_url, seed=seed,
        max_examples=max_examples, out=out, baseline=baseline if use_baseline else None,
        update_baseline=update_baseline,
        exclude_tags=GATEWAY_HIDDEN_TAGS if route == "gateway" else ())
    env = {**os.environ, "CRASHCART_FUZZ_WFC": str(wfc), "CRASHCART_FUZZ_USER": IDENTITY[service],
           "CRASHCART_FUZZ_PRODUCT_IDS": catalog_ids(gateway_url),
           "SCHEMATHESIS_HOOKS": HOOKS, "NO_COLOR": "1", "COLUMNS": "120"}
    started = time.monotonic()
    with (out / "output.txt").open("w", encoding="utf-8") as log:
        done = subprocess.run(command, cwd=out, env=env, stdout=log, stderr=subprocess.STDOUT,
                              timeout=timeout_s, check=False)
    seconds = time.monotonic() - started
    (out / "command.txt").write_text(" ".join(command) + "\n", encoding="utf-8")
    report_path = out / "report.json"
    report = json.loads(report_path.read_text(encoding="utf-8")) if report_path.exists() else {}
    baseline_info = report.get("baseline") or {}
    failures = list(report.get("failures", [])) + list(report.get("errors", []))
    if done.returncode == 0:
        failures = []  # only baseline-known failures (Schemathesis exits 0 for those)
    replay = [f"{Path(sys.executable).with_name('pytest')} {out / 'test_replay_failures.py'}",
              f"cd {out} && {st_executable()} replay --url {base_url}"] if failures else []
    return ServiceResult(
        service=service, route=route, seed=seed, max_examples=max_examples,
        exit_code=done.returncode, cases=int(report.get("test_cases", {}).get("generated", 0)),
        seconds=round(seconds, 1), new_failures=failures,
        known_failures=int(baseline_info.get("known", 0)) if isinstance(baseline_info, dict)
        else 0,
        report_dir=str(out), replay=replay)


def run_campaign(*, services: Sequence[str], service_urls: dict[str, str], gateway_url: str,
                 routes: Sequence[str], seed: int, max_examples: int | None, out: Path,
                 admin: Credentials, update_baseline: bool = False) -> list[ServiceResult]:
    """Every (service, route) in turn; a summary.json in `out` lists cases, time and seed.

    `max_examples=None` is the deep budget, sized per service from its operation count."""
    identities = {**register_peers(gateway_url), "admin": admin}
    results = []
    for service in services:
        for route in routes:
            url = service_urls[service].rstrip("/")
            result = run_service(
                service=service, service_url=url,
                gateway_url=gateway_url.rstrip("/"), route=route, seed=seed,
                max_examples=max_examples or deep_examples(url, route), identities=identities,
                out=out / f"{service}-{route}", update_baseline=update_baseline)
            results.append(result)
            print(f"{service:8} {route:8} cases={result.cases:6d} "
                  f"failures={len(result.new_failures)} known={result.known_failures} "
                  f"time={result.seconds}s exit={result.exit_code}", flush=True)
    (out / "summary.json").write_text(
        json.dumps([asdict(r) for r in results], indent=2), encoding="utf-8")
    return results
