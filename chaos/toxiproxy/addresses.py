"""Listen addresses as Go's ``net.Listen("tcp", ...)`` understands and renders them.

Why: clients read the proxy's port back from ``listen``, and tests compare it as a
string: ``localhost:0`` must come back as ``127.0.0.1:<port>``, ``""``/``:0``/``0.0.0.0:0``
as the dual-stack wildcard ``[::]:<port>``, and failures must carry Go's error text.
"""

from __future__ import annotations

import asyncio
import errno
import ipaddress
import os
import socket


class ListenError(Exception):
    """Binding failed; ``str(err)`` is Go's message (e.g. ``listen tcp 127.0.0.1:80: bind: permission denied``).

    ``errno`` is the OS error of a failed bind (None when the address itself is invalid).
    """

    def __init__(self, message: str, errno_code: int | None = None) -> None:
        super().__init__(message)
        self.errno = errno_code


def split_host_port(address: str) -> tuple[str, str]:
    """Go ``net.SplitHostPort``: ``host:port`` / ``[v6]:port`` → (host, port); ``""`` = any host, any port."""
    if address == "":
        return "", "0"
    if address.startswith("["):
        end = address.find("]")
        if end < 0:
            raise ListenError(f"listen tcp: address {address}: missing ']' in address")
        host, rest = address[1:end], address[end + 1 :]
        if not rest.startswith(":"):
            raise ListenError(f"listen tcp: address {address}: missing port in address")
        return host, rest[1:]
    host, colon, port = address.rpartition(":")
    if not colon:
        raise ListenError(f"listen tcp: address {address}: missing port in address")
    if ":" in host:
        raise ListenError(f"listen tcp: address {address}: too many colons in address")
    return host, port


def parse_port(port: str, address: str) -> int:
    if port == "":
        return 0
    if port.isdigit():
        value = int(port)
        if value > 65535:
            raise ListenError(f"listen tcp: address {port}: invalid port")
        return value
    try:
        return socket.getservbyname(port, "tcp")
    except OSError:
        raise ListenError(f"listen tcp: address tcp/{port}: unknown port") from None


def render(host: str, port: int) -> str:
    """Go's rendering of a socket address."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


async def resolve(address: str) -> tuple[str | None, int]:
    """Resolve the host part (IPv4 preferred, like Go); None = dual-stack wildcard.

    Go's "tcp" listener treats every unspecified address (``""``, ``0.0.0.0``, ``::``) as
    the dual-stack wildcard: one socket accepting IPv4 and IPv6, shown as ``[::]:<port>``
    (checked against a real Toxiproxy 2.12).
    """
    host, port_text = split_host_port(address)
    port = parse_port(port_text, address)
    if host == "":
        return None, port
    try:
        ip = ipaddress.ip_address(host.split("%")[0])
    except ValueError:
        pass
    else:
        return (None if ip.is_unspecified else str(ip)), port
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except socket.gaierror:
        raise ListenError(f"listen tcp: lookup {host}: no such host") from None
    infos.sort(key=lambda info: info[0] != socket.AF_INET)
    return str(infos[0][4][0]), port


async def resolved_text(address: str) -> str:
    """The listen string after resolution, port unchanged (for 'did listen change?')."""
    host, port = await resolve(address)
    return render("::" if host is None else host, port)


async def bind(address: str) -> tuple[socket.socket, str]:
    """Bind and listen on ``address``; return the socket and Go's rendering of its real address."""
    host, port = await resolve(address)
    if host is None:
        sock = _dual_stack_socket()
        target: tuple[str, int] = ("::" if sock.family == socket.AF_INET6 else "0.0.0.0", port)
    else:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        target = (host, port)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(target)
        sock.listen(4096)
    except OSError as exc:
        sock.close()
        reason = os.strerror(exc.errno) if exc.errno else str(exc)
        shown = render(":" if host is None else host, port).replace("[:]", "")
        raise ListenError(f"listen tcp {shown}: bind: {reason[:1].lower()}{reason[1:]}", exc.errno) from None
    sock.setblocking(False)
    real_host, real_port = sock.getsockname()[:2]
    return sock, render(real_host, real_port)


def _dual_stack_socket() -> socket.socket:
    try:
        sock = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    except OSError as exc:
        if exc.errno in (errno.EAFNOSUPPORT, errno.EPROTONOSUPPORT):
            return socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        raise
    try:
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    except OSError:
        pass
    return sock
