"""Artifacts the compose backend needs, generated from the topology and committed.

Docker cannot run Python to render anything, so the Toxiproxy ``-config`` JSON and the
gateway's nginx.conf for compose are generated here and committed; a test fails when a
committed copy drifts from what the topology would generate (`crashcart generate`).
"""

from __future__ import annotations

import json
from pathlib import Path

from chaos.backends.gateway import render_compose
from chaos.topology import REPO_ROOT, Topology

DOCKER_DIR = REPO_ROOT / "platform" / "docker"
TOXIPROXY_JSON = DOCKER_DIR / "toxiproxy.json"
NGINX_CONF = DOCKER_DIR / "nginx.conf"
COMPOSE_FILE = REPO_ROOT / "docker-compose.yml"


def toxiproxy_json(topology: Topology) -> str:
    """The mesh for the toxiproxy container: listen on all interfaces, upstreams by name."""
    return json.dumps(topology.toxiproxy_config(topology.compose_addressing()), indent=2) + "\n"


def compose_artifacts(topology: Topology) -> dict[Path, str]:
    return {TOXIPROXY_JSON: toxiproxy_json(topology), NGINX_CONF: render_compose(topology)}


def write_compose_artifacts(topology: Topology, *, check: bool = False) -> list[Path]:
    """Write (or with ``check`` only compare) the artifacts; returns the paths that differ."""
    differing = []
    for path, text in compose_artifacts(topology).items():
        current = path.read_text() if path.exists() else None
        if current != text:
            differing.append(path)
            if not check:
                path.write_text(text)
    return differing
