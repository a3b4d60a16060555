"""``crashcart contracts`` (runs after the consumer tests: files run in name order): verify prints one line per interaction and fails on an empty
folder; publish and can-i-deploy without a broker say so in one line and exit non-zero."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import allure
import pytest

from chaos.cli import main
from chaos.topology import REPO_ROOT

pytestmark = [allure.epic("contracts"), allure.feature("crashcart contracts")]


def crashcart(*args: str, env: dict[str, str] | None = None, timeout_s: float = 240
              ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "chaos.cli", *args], cwd=REPO_ROOT,
                          env={**os.environ, "PACT_DO_NOT_TRACK": "true", **(env or {})},
                          capture_output=True, text=True, timeout=timeout_s)


@pytest.mark.parametrize("action", [["publish"], ["can-i-deploy", "--pacticipant", "storefront"]],
                         ids=["publish", "can-i-deploy"])
def test_without_a_broker_the_broker_commands_say_so_in_one_line(
        action: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The CLI's own ``main`` in-process (a subprocess would only add interpreter start-up)."""
    for name in [k for k in os.environ if k.startswith("PACT_BROKER_")]:
        monkeypatch.delenv(name)
    assert main(["contracts", *action]) == 1
    out, err = capsys.readouterr()
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "PACT_BROKER_BASE_URL" in lines[0], err
    assert out == ""


def test_verify_prints_one_line_per_interaction(pacts_folder: Path) -> None:
    """Verifies this session's pacts (written by the consumer tests) of user-service with
    the CLI's own provider (database tag ``_cli``, beside the suite's)."""
    result = crashcart("contracts", "verify", "--no-consumers", "--provider", "user-service",
                       "--pacts", str(pacts_folder))
    allure.attach(result.stdout, name="crashcart contracts verify",
                  attachment_type=allure.attachment_type.TEXT)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    lines = result.stdout.splitlines()
    assert "PASS storefront -> user-service: a registration" in lines
    assert "PASS order-service -> user-service: a user look-up for an existing user" in lines
    assert "PASS drift/reviewed-openapi user-service" in lines
    assert not [line for line in lines if line.startswith("FAIL")]
    assert lines[-1] == "6 interaction(s) verified, all passed; drift checks passed"


def test_verify_of_an_empty_folder_fails(tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["contracts", "verify", "--no-consumers", "--no-drift",
                 "--provider", "user-service", "--pacts", str(tmp_path)]) == 1
    assert capsys.readouterr().out.strip() == (
        f"FAIL no pact files in {tmp_path}: an empty pact folder never passes")


def test_with_a_broker_configured_publish_runs_the_pact_client(pacts_folder: Path) -> None:
    """The real `pact broker publish` runs with the git version and branch; here the broker
    URL points at a closed port, so the client itself reports the failure (exit non-zero)."""
    from contracts.broker import git_branch, git_version, publish_command
    from contracts.providers import free_port

    url = f"http://127.0.0.1:{free_port()}"
    os.environ["PACT_BROKER_BASE_URL"] = url
    try:
        command = publish_command(pacts_folder, version=git_version(), branch=git_branch())
    finally:
        del os.environ["PACT_BROKER_BASE_URL"]
    assert command[1:4] == ["broker", "publish", str(pacts_folder)]
    assert command[command.index("--consumer-app-version") + 1] == git_version()
    assert command[command.index("--branch") + 1] == git_branch()
    result = crashcart("contracts", "publish", "--pacts", str(pacts_folder),
                       env={"PACT_BROKER_BASE_URL": url, "PACT_BROKER_HTTP_RETRIES": "0"},
                       timeout_s=120)
    assert result.returncode != 0
    assert "no Pact Broker configured" not in result.stderr
    assert url in result.stdout + result.stderr  # the client's own error names the broker
