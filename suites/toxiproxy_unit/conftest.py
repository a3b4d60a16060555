"""Fixtures for the embedded server's own development tests (the conformance suite is suites/toxiproxy)."""

from __future__ import annotations

import json
import socket
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from chaos.toxiproxy.runner import RunningServer, start_in_thread


class Api:
    def __init__(self, url: str) -> None:
        self.url = url

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        data = body if body is None or isinstance(body, bytes) else json.dumps(body).encode()
        request = urllib.request.Request(self.url + path, data=data, method=method)
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                raw = response.read()
                return response.status, json.loads(raw) if raw else None
        except urllib.error.HTTPError as exc:
            raw = exc.read()
            return exc.code, json.loads(raw)

    def proxy(self, name: str, upstream_port: int) -> int:
        status, body = self.call("POST", "/proxies", {"name": name, "listen": "127.0.0.1:0",
                                                      "upstream": f"127.0.0.1:{upstream_port}"})
        assert status == 201, body
        return int(body["listen"].rsplit(":", 1)[1])

    def toxic(self, proxy: str, **body: Any) -> dict[str, Any]:
        status, reply = self.call("POST", f"/proxies/{proxy}/toxics", body)
        assert status == 200, reply
        return reply


class Echo:
    """Threaded TCP echo server (a real upstream)."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(128)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._echo, args=(conn,), daemon=True).start()

    @staticmethod
    def _echo(conn: socket.socket) -> None:
        with conn:
            while True:
                try:
                    data = conn.recv(65536)
                except OSError:
                    return
                if not data:
                    return
                conn.sendall(data)


@pytest.fixture()
def server() -> Iterator[RunningServer]:
    with start_in_thread(port=0, seed=7) as running:
        yield running


@pytest.fixture()
def api(server: RunningServer) -> Api:
    return Api(server.url)


@pytest.fixture(scope="session")
def echo() -> Echo:
    return Echo()
