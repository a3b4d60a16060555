"""Isolated platform instances for runtime tests: shifted ports, own state dir, own
databases and RabbitMQ vhost, so they never collide with a platform already running."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from chaos.topology import Topology, load_topology

RUNTIME_VHOST = "crashcart_runtime"
CRASHCART = Path(sys.executable).with_name("crashcart")


def isolated_env(state_dir: Path, offset: int, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("TOXIPROXY_URL", "CRASHCART_TOPOLOGY", "CRASHCART_NGINX")}
    env.update({
        "CRASHCART_STATE_DIR": str(state_dir),
        "CRASHCART_PORT_OFFSET": str(offset),
        "CRASHCART_DATABASE_SUFFIX": "_runtime",
        "CRASHCART_RABBITMQ_VHOST": RUNTIME_VHOST,
    })
    env.update(extra)
    return env


def topology_for(env: Mapping[str, str]) -> Topology:
    return load_topology(env=env)


def crashcart(*args: str, env: Mapping[str, str],
              timeout: float = 180.0) -> subprocess.CompletedProcess[str]:
    """Run the real console script as a user would."""
    command = [str(CRASHCART)] if CRASHCART.exists() else [sys.executable, "-m", "chaos.cli"]
    return subprocess.run([*command, *args], env=dict(env), capture_output=True, text=True,
                          timeout=timeout)


def ensure_vhost(vhost: str = RUNTIME_VHOST) -> None:
    """Create the RabbitMQ vhost of runtime instances (their consumers must not compete
    with a running platform's on the default vhost)."""
    ctl = shutil.which("rabbitmqctl") or shutil.which("rabbitmqctl", path="/usr/sbin")
    if ctl is None:
        raise RuntimeError("rabbitmqctl not found: runtime instances need their own vhost "
                           f"{vhost!r}; create it and grant guest all permissions")
    listed = subprocess.run([ctl, "-q", "list_vhosts"], capture_output=True, text=True,
                            timeout=60, check=True).stdout.split()
    if vhost not in listed:
        subprocess.run([ctl, "-q", "add_vhost", vhost], check=True, timeout=60,
                       capture_output=True)
    subprocess.run([ctl, "-q", "set_permissions", "-p", vhost, "guest", ".*", ".*", ".*"],
                   check=True, timeout=60, capture_output=True)
