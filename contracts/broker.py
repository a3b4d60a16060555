"""Pact Broker: publish the pact files and ask can-i-deploy, through pact-python-cli's
``pact broker`` client. Only when ``PACT_BROKER_BASE_URL`` is set; credentials come from
``PACT_BROKER_TOKEN`` or ``PACT_BROKER_USERNAME``/``PACT_BROKER_PASSWORD`` (read by the client
itself). The version is the git commit, the branch the git branch (overridable).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from chaos.topology import REPO_ROOT

BROKER_ENV = "PACT_BROKER_BASE_URL"
NO_BROKER = (f"no Pact Broker configured: set {BROKER_ENV} (docker compose --profile "
             "pact-broker up starts one); verification reads the local pact files")


class BrokerError(RuntimeError):
    """The broker is not configured or the client is missing."""


def broker_url() -> str:
    url = os.environ.get(BROKER_ENV, "").strip()
    if not url:
        raise BrokerError(NO_BROKER)
    return url


def pact_cli() -> str:
    """The ``pact`` binary pact-python-cli installs next to this interpreter (or on PATH)."""
    beside = Path(sys.executable).parent / "pact"
    found = str(beside) if beside.is_file() else shutil.which("pact")
    if not found:
        raise BrokerError("the `pact` client is missing: pip install pact-python-cli")
    return found


def _git(*args: str) -> str:
    return subprocess.run(["git", *args], cwd=REPO_ROOT, capture_output=True, text=True,
                          check=True).stdout.strip()


def git_version() -> str:
    return _git("rev-parse", "HEAD")


def git_branch() -> str:
    return _git("rev-parse", "--abbrev-ref", "HEAD")


def publish_command(pacts: Path, *, version: str, branch: str) -> list[str]:
    return [pact_cli(), "broker", "publish", str(pacts), "--broker-base-url", broker_url(),
            "--consumer-app-version", version, "--branch", branch]


def can_i_deploy_command(pacticipant: str, *, version: str, to_environment: str | None,
                         retry_while_unknown: int = 0) -> list[str]:
    command = [pact_cli(), "broker", "can-i-deploy", "--broker-base-url", broker_url(),
               "--pacticipant", pacticipant, "--version", version]
    command += ["--to-environment", to_environment] if to_environment else ["--to", "main"]
    if retry_while_unknown:
        command += ["--retry-while-unknown", str(retry_while_unknown)]
    return command
