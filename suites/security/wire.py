"""Raw HTTP/1.1 over a socket: requests no well-behaved client library would send."""

from __future__ import annotations

import json
import socket
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit


@dataclass(frozen=True, slots=True)
class RawAnswer:
    status: int
    headers: dict[str, str]
    body: bytes
    raw: bytes

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")

    def json(self) -> Any:
        return json.loads(self.body)


def _dechunk(body: bytes) -> bytes:
    out = b""
    while body:
        size_line, _, rest = body.partition(b"\r\n")
        size = int(size_line.split(b";")[0] or b"0", 16)
        if size == 0:
            break
        out += rest[:size]
        body = rest[size + 2:]
    return out


def parse_first_answer(raw: bytes) -> RawAnswer:
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ")[1])
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    if headers.get("transfer-encoding", "").lower() == "chunked":
        body = _dechunk(body)
    elif "content-length" in headers:
        body = body[:int(headers["content-length"])]
    return RawAnswer(status, headers, body, raw)


def send_raw(url: str, data: bytes, *, timeout_s: float = 10.0,
             source_host: str | None = None) -> bytes:
    """Send `data` as is and read until the server closes (or `timeout_s` passes)."""
    parts = urlsplit(url)
    address = (parts.hostname or "127.0.0.1", parts.port or 80)
    source = (source_host, 0) if source_host else None
    deadline = time.monotonic() + timeout_s
    with socket.create_connection(address, timeout=timeout_s, source_address=source) as sock:
        sock.sendall(data)
        chunks: list[bytes] = []
        while time.monotonic() < deadline:
            sock.settimeout(max(0.05, deadline - time.monotonic()))
            try:
                chunk = sock.recv(65536)
            except TimeoutError:
                break
            if not chunk:
                break
            chunks.append(chunk)
    return b"".join(chunks)


def request(url: str, data: bytes, **kw: Any) -> RawAnswer:
    raw = send_raw(url, data, **kw)
    assert raw, "the server closed the connection without answering"
    return parse_first_answer(raw)


def count_answers(raw: bytes) -> int:
    """How many status lines a byte stream holds (a smuggled request shows as a second)."""
    return raw.count(b"HTTP/1.1 ") + raw.count(b"HTTP/1.0 ")
