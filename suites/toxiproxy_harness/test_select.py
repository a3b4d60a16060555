"""``chaos.toxiproxy.select.resolve_server``: explicit url > TOXIPROXY_URL > ``toxiproxy-server``
on PATH > embedded, and the argv each choice launches with.

The binary on PATH is a dummy script: selection only inspects PATH, it never runs it.
The embedded choice's argv *is* run, since that is what launchers will do with it.
"""
from __future__ import annotations

import sys
from pathlib import Path

import httpx
import pytest

from chaos.toxiproxy import VERSION
from chaos.toxiproxy.select import BINARY, ENV_URL, resolve_server
from suites.toxiproxy_harness.processes import READY_PREFIX, Launched


def _path_with(monkeypatch: pytest.MonkeyPatch, directory: Path) -> None:
    """Make ``directory`` the only PATH entry, so no real toxiproxy-server can interfere."""
    monkeypatch.setenv("PATH", str(directory))


def _fake_binary(directory: Path, *, executable: bool = True) -> Path:
    """A file named toxiproxy-server (never executed by these tests)."""
    directory.mkdir(parents=True, exist_ok=True)
    binary = directory / BINARY
    binary.write_text("#!/bin/sh\nexit 99\n")
    binary.chmod(0o755 if executable else 0o644)
    return binary


@pytest.fixture
def no_env_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_URL, raising=False)


def test_explicit_url_beats_the_environment_and_a_binary(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _path_with(monkeypatch, _fake_binary(tmp_path / "bin").parent)
    monkeypatch.setenv(ENV_URL, "http://from-env:8474")
    choice = resolve_server("http://explicit:9999/")
    assert (choice.kind, choice.url, choice.executable) == ("url", "http://explicit:9999", None)
    assert choice.command() is None
    assert choice.needs_launch is False


def test_environment_url_beats_a_binary_on_path(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _path_with(monkeypatch, _fake_binary(tmp_path / "bin").parent)
    monkeypatch.setenv(ENV_URL, "http://from-env:8474/")
    choice = resolve_server()
    assert (choice.kind, choice.url) == ("url", "http://from-env:8474")
    assert choice.command("0.0.0.0", 1) is None


@pytest.mark.usefixtures("no_env_url")
def test_binary_on_path_beats_the_embedded_server(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    binary = _fake_binary(tmp_path / "bin")
    _path_with(monkeypatch, binary.parent)
    choice = resolve_server(host="127.0.0.2", port=9001)
    assert (choice.kind, choice.url, choice.executable) == (
        "binary", "http://127.0.0.2:9001", str(binary))
    assert choice.needs_launch is True
    assert choice.command() == [str(binary), "-host", "127.0.0.1", "-port", "8474"]
    assert choice.command("0.0.0.0", 9001, "-seed", "3") == [
        str(binary), "-host", "0.0.0.0", "-port", "9001", "-seed", "3"]


@pytest.mark.usefixtures("no_env_url")
def test_empty_environment_url_counts_as_unset(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _path_with(monkeypatch, _fake_binary(tmp_path / "bin").parent)
    monkeypatch.setenv(ENV_URL, "")
    assert resolve_server().kind == "binary"


@pytest.mark.usefixtures("no_env_url")
def test_non_executable_file_on_path_is_not_a_binary(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _path_with(monkeypatch, _fake_binary(tmp_path / "bin", executable=False).parent)
    assert resolve_server().kind == "embedded"


@pytest.mark.usefixtures("no_env_url")
def test_without_url_or_binary_the_embedded_server_is_chosen(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _path_with(monkeypatch, tmp_path)
    choice = resolve_server()
    assert (choice.kind, choice.url, choice.executable) == (
        "embedded", "http://127.0.0.1:8474", None)
    assert choice.command() == [
        sys.executable, "-m", "chaos.toxiproxy", "-host", "127.0.0.1", "-port", "8474"]


@pytest.mark.usefixtures("no_env_url")
def test_embedded_command_starts_a_working_server(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _path_with(monkeypatch, tmp_path)
    command = resolve_server().command("127.0.0.1", 0)
    assert command is not None
    server = Launched(command, tmp_path / "stderr.log")
    try:
        assert server.ready_line.startswith(f"{READY_PREFIX}http://127.0.0.1:")
        assert httpx.get(f"{server.url}/version", timeout=5.0).json() == {"version": VERSION}
        assert server.terminate() == 0
    finally:
        server.kill()
