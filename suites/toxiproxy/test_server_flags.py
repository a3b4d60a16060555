"""Command-line flags of the server binary itself (issue 12): ``-help`` prints the usage of
every flag and exits 0, as Go's ``flag`` package does for ``toxiproxy-server -help``.

Runs ``toxiproxy-server`` when it is on PATH (so, next to a real server, the real binary is
what is checked), otherwise the embedded server's ``python -m chaos.toxiproxy``.
"""
from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

FLAGS = ("-config", "-host", "-port", "-proxy-metrics", "-runtime-metrics", "-seed", "-version")


def _server_command() -> list[str]:
    binary = shutil.which("toxiproxy-server")
    return [binary] if binary else [sys.executable, "-m", "chaos.toxiproxy"]


@pytest.mark.parametrize("flag", ["-help", "-h", "--help", "-help=true"])
def test_help_prints_the_usage_to_stderr_and_exits_0(flag: str) -> None:
    done = subprocess.run([*_server_command(), flag], capture_output=True, text=True,
                          timeout=30, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
    assert done.stderr.startswith("Usage of "), done.stderr
    listed = [line.split()[0] for line in done.stderr.splitlines() if line.startswith("  -")]
    assert tuple(listed) == FLAGS, done.stderr
