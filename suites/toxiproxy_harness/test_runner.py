"""``chaos.toxiproxy.runner``: servers for tests and tools that always clean up after themselves.

start_in_thread and start_subprocess must report the real port for port 0, and their stop
(or ``with`` exit) must release the API port, every proxy listener and, for a subprocess,
its whole process group, also when the ``with`` body raises.
"""
from __future__ import annotations

import os
import socket

import httpx
import psutil
import pytest

from chaos.toxiproxy import VERSION
from chaos.toxiproxy.runner import RunningServer, start_in_thread, start_subprocess
from chaos.toxiproxy.server import StartupError
from suites.toxiproxy import admin, net


class BodyFailed(Exception):
    """Raised inside a ``with`` body to prove cleanup does not depend on a clean exit."""


def _version(server: RunningServer) -> str:
    response = httpx.get(f"{server.url}/version", timeout=5.0)
    assert response.status_code == 200, response.text
    return str(response.json()["version"])


def _add_proxy(server: RunningServer) -> int:
    """Create an enabled proxy on a free port of ``server``; returns its listen port."""
    with httpx.Client(base_url=server.url, timeout=5.0) as api:
        return admin.port_of(admin.create_proxy(api, "127.0.0.1:1")["listen"])


def _port_is_free(port: int) -> bool:
    """True when the port can be bound again (nobody holds it, not even a half-closed listener)."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def _server_children() -> set[int]:
    """Pids of this test process's live children that run the embedded server."""
    pids: set[int] = set()
    for child in psutil.Process().children(recursive=True):
        try:
            if "chaos.toxiproxy" in " ".join(child.cmdline()):
                pids.add(child.pid)
        except psutil.Error:  # exited while we looked
            continue
    return pids


def _group_exists(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def test_thread_server_on_port_zero_reports_its_real_port() -> None:
    with start_in_thread(host="127.0.0.1", port=0) as server:
        assert server.port != 0
        assert server.url == f"http://127.0.0.1:{server.port}"
        assert (server.host, server.pid) == ("127.0.0.1", None)
        assert _version(server) == VERSION


def test_leaving_the_thread_server_frees_its_port_and_proxy_listeners() -> None:
    with start_in_thread(host="127.0.0.1", port=0) as server:
        proxy_port = _add_proxy(server)
        assert net.is_listening(proxy_port)
    assert not net.is_listening(server.port)
    assert not net.is_listening(proxy_port)
    assert _port_is_free(server.port) and _port_is_free(proxy_port)
    server.stop()  # a second stop is a no-op


def test_thread_server_stops_when_the_body_raises() -> None:
    with pytest.raises(BodyFailed), start_in_thread(host="127.0.0.1", port=0) as server:
        raise BodyFailed
    assert not net.is_listening(server.port)


def test_two_thread_servers_are_independent() -> None:
    with start_in_thread(host="127.0.0.1", port=0) as first, \
            start_in_thread(host="127.0.0.1", port=0) as second:
        assert first.port != second.port
        proxy_port = _add_proxy(first)
        assert list(httpx.get(f"{second.url}/proxies", timeout=5.0).json()) == []
        first.stop()
        assert _version(second) == VERSION
        assert not net.is_listening(proxy_port)


def test_thread_server_on_a_taken_port_raises_startup_error() -> None:
    with socket.create_server(("127.0.0.1", 0)) as holder, \
            pytest.raises(StartupError, match="address already in use"):
        start_in_thread(host="127.0.0.1", port=holder.getsockname()[1])


def test_subprocess_server_has_a_pid_in_its_own_group_and_answers() -> None:
    with start_subprocess(host="127.0.0.1", port=0) as server:
        assert server.pid is not None and server.port != 0
        assert os.getpgid(server.pid) == server.pid
        assert _version(server) == VERSION
        proxy_port = _add_proxy(server)
    assert not _group_exists(server.pid)
    assert not net.is_listening(server.port)
    assert not net.is_listening(proxy_port)


def test_subprocess_server_group_is_gone_even_when_the_body_raises() -> None:
    pids: list[int] = []
    with pytest.raises(BodyFailed), start_subprocess(host="127.0.0.1", port=0) as server:
        assert server.pid is not None and _group_exists(server.pid)
        pids.append(server.pid)
        raise BodyFailed
    assert not _group_exists(pids[0])
    assert not net.is_listening(server.port)


def test_subprocess_server_on_a_taken_port_raises_and_leaves_no_process() -> None:
    before = _server_children()
    with socket.create_server(("127.0.0.1", 0)) as holder, \
            pytest.raises(StartupError, match="exited"):
        start_subprocess(host="127.0.0.1", port=holder.getsockname()[1])
    assert _server_children() == before
