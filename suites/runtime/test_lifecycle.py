"""`crashcart up` / `status` / `down` on an isolated instance: nothing may be left behind."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import psutil
import pytest

from chaos.backends.local.ports import port_is_free
from suites.runtime.instance import crashcart, isolated_env, topology_for

pytestmark = pytest.mark.slow


def _pids(state_dir: Path) -> dict[str, int]:
    state = json.loads((state_dir / "state.json").read_text())
    return {c["name"]: c["pid"] for c in state["components"]}


def _alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def test_up_status_down_leaves_no_process_and_no_port(tmp_path: Path, runtime_vhost: str) -> None:
    env = isolated_env(tmp_path / "state", 3000)
    topology = topology_for(env)
    try:
        up = crashcart("up", env=env)
        assert up.returncode == 0, up.stdout + up.stderr
        assert up.stdout.strip().splitlines()[-1] == topology.gateway_url
        pids = _pids(tmp_path / "state")
        assert set(pids) == {"toxiproxy", "gateway", *topology.services}
        assert all(_alive(pid) for pid in pids.values())

        health = httpx.get(f"{topology.gateway_url}/health", timeout=10)
        assert health.status_code == 200, health.text

        status = crashcart("status", env=env)
        assert status.returncode == 0, status.stdout + status.stderr
        for name, pid in pids.items():
            line = next(row for row in status.stdout.splitlines() if row.startswith(name + " "))
            assert line.split() == [name, str(pid), line.split()[2], "yes", "yes"]

        again = crashcart("up", env=env)
        assert again.returncode == 0, again.stderr
        assert "already up" in again.stdout
        assert _pids(tmp_path / "state") == pids, "a second `up` must not start anything"
    finally:
        down = crashcart("down", env=env)
    assert down.returncode == 0, down.stdout + down.stderr
    assert not [name for name, pid in pids.items() if _alive(pid)]
    taken = [port for port in topology.listening_ports().values() if not port_is_free(port)]
    assert taken == []
    assert not (tmp_path / "state" / "state.json").exists()

    after = crashcart("status", env=env)
    assert after.returncode == 3
    assert "not running" in after.stdout


def test_status_reports_a_killed_service(tmp_path: Path, runtime_vhost: str) -> None:
    env = isolated_env(tmp_path / "state", 3200)
    try:
        up = crashcart("up", env=env)
        assert up.returncode == 0, up.stdout + up.stderr
        victim = _pids(tmp_path / "state")["payment"]
        psutil.Process(victim).kill()
        psutil.Process(victim).wait(timeout=5) if _alive(victim) else None
        status = crashcart("status", env=env)
        assert status.returncode == 1
        row = next(r for r in status.stdout.splitlines() if r.startswith("payment "))
        assert row.split()[3:] == ["no", "no"]
    finally:
        down = crashcart("down", env=env)
    assert down.returncode == 0, down.stdout + down.stderr


def test_up_failing_halfway_stops_what_it_started_and_shows_the_log(
        tmp_path: Path, runtime_vhost: str) -> None:
    # A JWT secret the services refuse makes them exit after toxiproxy is already running.
    env = isolated_env(tmp_path / "state", 3400, CRASHCART_SETTINGS_JWT_SECRET="short")
    topology = topology_for(env)
    result = crashcart("up", env=env)
    try:
        assert result.returncode == 1
        assert "exited during start-up" in result.stderr
        assert "last lines of the" in result.stderr
        assert "JWT_SECRET" in result.stderr, result.stderr
    finally:
        crashcart("down", env=env)
    assert [p for p in topology.listening_ports().values() if not port_is_free(p)] == []
    assert not (tmp_path / "state" / "state.json").exists()


def test_configured_toxiproxy_url_is_used_and_none_is_started(
        tmp_path: Path, runtime_vhost: str) -> None:
    from chaos.toxiproxy.runner import start_subprocess

    server = start_subprocess("127.0.0.1", _free_port(),
                              log_path=tmp_path / "external-toxiproxy.log")
    try:
        env = isolated_env(tmp_path / "state", 3800, TOXIPROXY_URL=server.url)
        topology = topology_for(env)
        try:
            up = crashcart("up", env=env)
            assert up.returncode == 0, up.stdout + up.stderr
            assert "toxiproxy" not in _pids(tmp_path / "state")
            proxies = httpx.get(f"{server.url}/proxies", timeout=5).json()
            assert set(proxies) == set(topology.proxy_names)
            assert httpx.get(f"{topology.gateway_url}/health", timeout=10).status_code == 200
        finally:
            down = crashcart("down", env=env)
        assert down.returncode == 0, down.stdout + down.stderr
        assert httpx.get(f"{server.url}/proxies", timeout=5).json() == {}, \
            "down removes its proxies from a shared server"
        assert _alive(server.pid), "down must not stop a server it did not start"
    finally:
        server.stop()


def test_crashcart_toxiproxy_delegates_to_the_server_cli(tmp_path: Path) -> None:
    result = crashcart("toxiproxy", "-version", env=isolated_env(tmp_path, 0))
    assert result.returncode == 0
    assert "2.12.0" in result.stdout


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
