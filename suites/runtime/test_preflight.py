"""`crashcart up` refuses to start, with a message saying what to do, when a prerequisite is
missing — and leaves nothing running."""

from __future__ import annotations

import os
import socket
from pathlib import Path

from chaos.backends.local.ports import port_is_free
from suites.runtime.instance import crashcart, isolated_env, topology_for


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _nothing_listens(env: dict[str, str], except_port: int | None = None) -> list[int]:
    ports = topology_for(env).listening_ports().values()
    return [p for p in ports if p != except_port and not port_is_free(p)]


def test_taken_port_is_named_with_its_holder(tmp_path: Path) -> None:
    env = isolated_env(tmp_path / "state", 3600)
    topology = topology_for(env)
    port = topology.edge("order", "user").proxy_port
    with socket.socket() as squatter:
        squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        squatter.bind(("127.0.0.1", port))
        squatter.listen(1)
        result = crashcart("up", env=env)
        assert result.returncode == 1
        assert f"port {port} (for order_to_user) is already in use" in result.stderr
        assert f"pid {os.getpid()}" in result.stderr, result.stderr
        assert _nothing_listens(env, except_port=port) == []
    assert not (tmp_path / "state" / "state.json").exists()


def test_unreachable_postgres_is_reported(tmp_path: Path) -> None:
    port = _closed_port()
    env = isolated_env(tmp_path / "state", 3600, CRASHCART_POSTGRES_PORT=str(port))
    result = crashcart("up", env=env)
    assert result.returncode == 1
    assert f"PostgreSQL is not reachable at 127.0.0.1:{port}" in result.stderr
    assert "CRASHCART_POSTGRES_PORT" in result.stderr
    assert _nothing_listens(env) == []


def test_unreachable_rabbitmq_is_reported(tmp_path: Path) -> None:
    port = _closed_port()
    env = isolated_env(tmp_path / "state", 3600, CRASHCART_RABBITMQ_PORT=str(port))
    result = crashcart("up", env=env)
    assert result.returncode == 1
    assert f"RabbitMQ is not reachable at 127.0.0.1:{port}" in result.stderr
    assert _nothing_listens(env) == []


def test_missing_nginx_is_reported_with_the_install_command(tmp_path: Path) -> None:
    env = isolated_env(tmp_path / "state", 3600, CRASHCART_NGINX="/nonexistent/nginx")
    result = crashcart("up", env=env)
    assert result.returncode == 1
    assert "nginx binary not found at CRASHCART_NGINX=/nonexistent/nginx" in result.stderr
    assert "apt-get install nginx libnginx-mod-http-js" in result.stderr
    assert _nothing_listens(env) == []


def test_bad_topology_is_a_usage_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[gateway]\nport = 'x'\n")
    result = crashcart("--topology", str(bad), "status", env=isolated_env(tmp_path, 0))
    assert result.returncode == 2
    assert "topology error" in result.stderr
