"""``crashcart toxiproxy``: upstream's flags in every spelling, the ready line, ``-version``, ``-help``,
the exit statuses of a taken port and of a bad flag, and a clean SIGTERM stop.

(``-config`` applying proxies *before* the API answers is checked by
suites/toxiproxy/test_server_process.py; here ``-config`` is only a flag whose value must
arrive.)
"""
from __future__ import annotations

import json
import socket
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from chaos.toxiproxy import VERSION
from suites.toxiproxy import net
from suites.toxiproxy_harness.processes import CRASHCART, READY_PREFIX, Launched, run_to_end

Launcher = Callable[..., Launched]


@pytest.fixture
def launch(tmp_path: Path) -> Iterator[Launcher]:
    """Start ``crashcart toxiproxy <flags>``; every process started is killed after the test."""
    started: list[Launched] = []

    def start(*flags: str) -> Launched:
        launched = Launched([CRASHCART, "toxiproxy", *flags],
                            tmp_path / f"stderr-{len(started)}.log")
        started.append(launched)
        return launched

    yield start
    for launched in started:
        launched.kill()


def _config_with_one_proxy(tmp_path: Path) -> tuple[Path, int]:
    """A ``-config`` file declaring one proxy on a free port; returns the file and that port."""
    port = net.free_port()
    path = tmp_path / "proxies.json"
    path.write_text(json.dumps([{"name": "from_config", "listen": f"127.0.0.1:{port}",
                                 "upstream": "127.0.0.1:1"}]))
    return path, port


def _flags(style: str, **values: str) -> list[str]:
    """The same flags in one of Go's accepted spellings."""
    if style == "single-dash":
        return [part for name, value in values.items() for part in (f"-{name}", value)]
    if style == "double-dash":
        return [part for name, value in values.items() for part in (f"--{name}", value)]
    return [f"-{name}={value}" for name, value in values.items()]


@pytest.mark.parametrize("style", ["single-dash", "double-dash", "flag=value"])
def test_upstream_flags_are_accepted_in_every_spelling(
    launch: Launcher, tmp_path: Path, style: str
) -> None:
    api_port = net.free_port()
    config, proxy_port = _config_with_one_proxy(tmp_path)
    server = launch(*_flags(style, host="127.0.0.1", port=str(api_port), config=str(config),
                            seed="4242"))

    assert server.ready_line == f"{READY_PREFIX}http://127.0.0.1:{api_port}"
    version = httpx.get(f"{server.url}/version", timeout=5.0)
    assert version.status_code == 200
    assert version.json() == {"version": VERSION}
    assert list(httpx.get(f"{server.url}/proxies", timeout=5.0).json()) == ["from_config"]
    assert net.is_listening(proxy_port)
    assert "toxic decisions use seed 4242" in server.stderr()


def test_port_zero_reports_the_real_port_in_the_ready_line(launch: Launcher) -> None:
    server = launch("-host", "127.0.0.1", "-port", "0")
    port = int(server.url.rsplit(":", 1)[1])
    assert port != 0
    assert httpx.get(f"http://127.0.0.1:{port}/version", timeout=5.0).status_code == 200


@pytest.mark.parametrize("flag", ["-version", "--version", "-version=true"])
def test_version_flag_prints_the_version_and_exits_0(flag: str) -> None:
    done = run_to_end([CRASHCART, "toxiproxy", flag])
    assert (done.status, done.stdout, done.stderr) == (
        0, f"toxiproxy-server version {VERSION}\n", "")


@pytest.mark.parametrize("flag", ["-help", "-h", "--help"])
def test_help_flag_prints_go_style_usage_and_exits_0(flag: str) -> None:
    done = run_to_end([CRASHCART, "toxiproxy", flag])
    assert (done.status, done.stdout) == (0, "")
    assert done.stderr.startswith("Usage of toxiproxy:\n  -config string\n"), done.stderr
    for name in ("-host", "-port", "-seed", "-proxy-metrics", "-runtime-metrics", "-version"):
        assert f"\n  {name}" in done.stderr


def test_taken_api_port_is_a_one_line_error_and_status_1() -> None:
    with socket.create_server(("127.0.0.1", 0)) as holder:
        port = holder.getsockname()[1]
        done = run_to_end([CRASHCART, "toxiproxy", "-host", "127.0.0.1", "-port", str(port)])
    assert done.status == 1
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert f"127.0.0.1:{port}" in lines[0] and "address already in use" in lines[0]
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("flag", ["-bogus", "--no-such-flag", "-port=not-a-number"])
def test_bad_flag_is_a_usage_error_with_status_2(flag: str) -> None:
    done = run_to_end([CRASHCART, "toxiproxy", flag])
    assert done.status == 2
    assert done.stdout == ""
    assert done.stderr.startswith("usage: ")
    assert "error:" in done.stderr and flag.split("=")[0].lstrip("-") in done.stderr
    assert "Traceback" not in done.stderr


def test_sigterm_stops_with_status_0_and_closes_every_listener(
    launch: Launcher, tmp_path: Path
) -> None:
    config, proxy_port = _config_with_one_proxy(tmp_path)
    server = launch("-host", "127.0.0.1", "-port", "0", "-config", str(config))
    api_port = int(server.url.rsplit(":", 1)[1])
    assert net.is_listening(api_port) and net.is_listening(proxy_port)

    assert server.terminate() == 0
    assert not net.is_listening(api_port)
    assert not net.is_listening(proxy_port)
    assert "Traceback" not in server.stderr()
