"""Port checks: is it free, who holds it, wait until something listens."""

from __future__ import annotations

import socket
import time

import psutil


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    """True when a server could bind ``host:port`` (SO_REUSEADDR, as servers do)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def port_holder(port: int) -> str | None:
    """``"pid 123 (nginx: master process ...)"`` of whoever listens on ``port``, if known."""
    try:
        connections = psutil.net_connections(kind="tcp")
    except (psutil.Error, OSError):
        return None
    for conn in connections:
        if conn.status == psutil.CONN_LISTEN and conn.laddr and conn.laddr.port == port:
            if conn.pid is None:
                return "another process (pid not visible)"
            try:
                cmd = " ".join(psutil.Process(conn.pid).cmdline())[:120]
            except psutil.Error:
                cmd = "?"
            return f"pid {conn.pid} ({cmd})"
    return None


def can_connect(host: str, port: int, timeout: float = 1.0) -> str | None:
    """None when a TCP connection succeeds, else the reason."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return None
    except OSError as exc:
        return exc.strerror or str(exc) or type(exc).__name__


def wait_ports_free(ports: list[int], host: str = "127.0.0.1", timeout: float = 5.0) -> list[int]:
    """Wait until every port is free; return those still taken at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        taken = [port for port in ports if not port_is_free(port, host)]
        if not taken or time.monotonic() >= deadline:
            return taken
        time.sleep(0.1)
