"""An isolated platform instance for ``crashcart run`` tests: shifted ports, own state dir,
databases and RabbitMQ vhost, so a nested run never touches the platform of the session."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from chaos.topology import Topology, load_topology
from suites.runtime.instance import ensure_vhost

OFFSET = 5500
SUFFIX = "_e_report"
VHOST = "crashcart_e_report"
CRASHCART = Path(sys.executable).with_name("crashcart")


def run_env(state_dir: Path, *, platform: bool = True) -> dict[str, str]:
    """The nested run's environment; ``platform``: it will start one (needs the vhost)."""
    if platform:
        ensure_vhost(VHOST)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("CRASHCART_") and k not in ("TOXIPROXY_URL",)}
    env.update({"CRASHCART_STATE_DIR": str(state_dir), "CRASHCART_PORT_OFFSET": str(OFFSET),
                "CRASHCART_DATABASE_SUFFIX": SUFFIX, "CRASHCART_RABBITMQ_VHOST": VHOST,
                "PACT_DO_NOT_TRACK": "true", "NO_COLOR": "1",
                # A small footprint on the shared PostgreSQL (max_connections) for a nested
                # instance that only serves a handful of requests.
                "DB_POOL_MAX": "3"})
    return env


def topology(env: Mapping[str, str]) -> Topology:
    return load_topology(env=env)


def report_args(work: Path) -> list[str]:
    return ["--results-dir", str(work / "results"), "--report-dir", str(work / "report"),
            "--history", str(work / "history.jsonl")]


def crashcart_command(*args: str) -> list[str]:
    base = [str(CRASHCART)] if CRASHCART.exists() else [sys.executable, "-m", "chaos.cli"]
    return [*base, *args]


def crashcart(args: Sequence[str], env: Mapping[str, str],
              timeout_s: float = 240.0) -> subprocess.CompletedProcess[str]:
    return subprocess.run(crashcart_command(*args), env=dict(env), capture_output=True,
                          text=True, timeout=timeout_s, check=False)
