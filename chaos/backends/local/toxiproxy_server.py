"""The Toxiproxy server of the local backend and the mesh it carries.

Which server: ``$TOXIPROXY_URL`` (use it, start none), else a ``toxiproxy-server`` binary on
PATH, else the embedded one (``python -m chaos.toxiproxy``) — each as its own process so
the platform outlives ``crashcart up``.
"""

from __future__ import annotations

from typing import Any

import httpx

from chaos.backends.local.errors import PlatformError
from chaos.topology import Topology
from chaos.toxiproxy.select import resolve_server


def external_url() -> str | None:
    """The configured server's URL (``TOXIPROXY_URL``), if any: then none is started."""
    choice = resolve_server()
    return choice.url if not choice.needs_launch else None


def server_command(host: str, port: int) -> list[str]:
    command = resolve_server(host=host, port=port).command(host, port)
    if command is None:  # pragma: no cover - callers check external_url() first
        raise PlatformError("TOXIPROXY_URL is set: no server to start")
    return command


def is_ready(url: str) -> bool:
    try:
        return httpx.get(f"{url}/version", timeout=1.0).status_code == 200
    except httpx.HTTPError:
        return False


def populate(url: str, topology: Topology) -> list[dict[str, Any]]:
    """Create (or keep, when identical) one proxy per edge; error names the failing proxy."""
    config = topology.toxiproxy_config(topology.local_addressing())
    try:
        response = httpx.post(f"{url}/populate", json=config, timeout=30.0)
    except httpx.HTTPError as exc:
        raise PlatformError(f"toxiproxy at {url}: populate failed: {exc}") from None
    if response.status_code != 201:
        raise PlatformError(f"toxiproxy at {url}: populate answered {response.status_code}: "
                            f"{response.text.strip()}")
    return list(response.json().get("proxies") or [])


def existing_matching_proxies(url: str, topology: Topology) -> list[str]:
    """Names of proxies the server already has exactly as the topology wants them."""
    try:
        current = httpx.get(f"{url}/proxies", timeout=5.0).json()
    except (httpx.HTTPError, ValueError):
        return []
    wanted = {p.name: p.listen for p in topology.proxies(topology.local_addressing())}
    return [name for name, proxy in current.items()
            if wanted.get(name) == proxy.get("listen")]


def reset(url: str) -> None:
    """Re-enable every proxy and drop every toxic (``POST /reset``)."""
    httpx.post(f"{url}/reset", timeout=10.0).raise_for_status()
