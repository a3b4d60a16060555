"""conftest of the throwaway run: a stand-in ``running_platform`` for the planted
fault-left-behind test — a real embedded Toxiproxy server with one proxy in front of a tiny
HTTP upstream, and a local backend over an empty state dir (no processes)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from chaos.backends.local import LocalBackend
from chaos.toxiproxy.runner import start_in_thread

pytest_plugins = ["suites.fixtures.reporting"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class _Hello(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        body = b'{"hello": "world"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("X-Request-ID", self.headers.get("X-Request-ID", "planted-rid"))
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@dataclass(slots=True)
class PlantedPlatform:
    toxiproxy_url: str
    backend: LocalBackend
    proxy_url: str


@pytest.fixture(scope="session")
def running_platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PlantedPlatform]:
    upstream = ThreadingHTTPServer(("127.0.0.1", 0), _Hello)
    threading.Thread(target=upstream.serve_forever, daemon=True).start()
    server = start_in_thread(port=free_port())
    listen = free_port()
    httpx.post(f"{server.url}/proxies", json={
        "name": "planted_to_upstream", "listen": f"127.0.0.1:{listen}",
        "upstream": f"127.0.0.1:{upstream.server_address[1]}"}, timeout=5).raise_for_status()
    state_dir: Path = tmp_path_factory.mktemp("planted-state")
    try:
        yield PlantedPlatform(server.url, LocalBackend(state_dir=state_dir),
                              f"http://127.0.0.1:{listen}")
    finally:
        server.stop()
        upstream.shutdown()
