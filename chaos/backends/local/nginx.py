"""The local nginx gateway: render the config into the state dir, test it, run it."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from chaos.backends.gateway import render_local
from chaos.backends.local.errors import ComponentFailed
from chaos.backends.local.state import StateDir
from chaos.topology import Topology


def prepare_config(topology: Topology, state: StateDir, nginx: Path, js_module: Path) -> Path:
    """Write ``<state>/nginx/nginx.conf`` and check it with ``nginx -t``."""
    base = state.root / "nginx"
    for sub in ("temp", "temp/client_body", "temp/proxy", "temp/fastcgi", "temp/uwsgi",
                "temp/scgi"):
        (base / sub).mkdir(parents=True, exist_ok=True)
    conf = base / "nginx.conf"
    conf.write_text(render_local(topology, state.root, js_module, as_root=os.geteuid() == 0))
    check = subprocess.run([*nginx_args(nginx, state, conf), "-t", "-q"], capture_output=True,
                           text=True, timeout=30)
    if check.returncode != 0:
        raise ComponentFailed("gateway", f"nginx rejected the rendered config {conf}",
                              (check.stderr + check.stdout).strip())
    return conf


def nginx_args(nginx: Path, state: StateDir, conf: Path) -> list[str]:
    return [str(nginx), "-p", str(state.root / "nginx"), "-c", str(conf),
            "-e", str(state.logs / "gateway.error.log")]


def nginx_command(nginx: Path, state: StateDir, conf: Path) -> list[str]:
    return [*nginx_args(nginx, state, conf), "-g", "daemon off;"]
