"""Stand-in HTTP servers: a patched copy of a gateway or a service that breaks an invariant
on purpose (answers 500, hangs, or claims to be ready whatever happens)."""
from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(slots=True)
class Reply:
    status: int
    body: dict[str, object]
    content_type: str = "application/json"
    delay_s: float = 0.0


@contextmanager
def standin(routes: dict[tuple[str, str], Reply]) -> Iterator[int]:
    """Serve ``{(method, path): Reply}`` on 127.0.0.1; yield the port."""
    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            reply = routes.get((self.command, self.path.split("?")[0]),
                               Reply(404, {"title": "not found"}))
            if reply.delay_s:
                time.sleep(reply.delay_s)
            data = json.dumps(reply.body).encode()
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = _answer

        def log_message(self, format: str, *args: object) -> None:
            pass

    with serving(ThreadingHTTPServer(("127.0.0.1", 0), Handler)) as port:
        yield port


@contextmanager
def serving(server: Any) -> Iterator[int]:
    """Run a socketserver on a daemon thread; yield its port; always shut it down."""
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield int(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()
