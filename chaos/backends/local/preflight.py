"""Checks before anything starts, so a missing prerequisite gives one clear message."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from chaos.backends.local.errors import PreflightError
from chaos.backends.local.ports import can_connect, port_holder, port_is_free
from chaos.topology import Topology

INSTALL_NGINX_HINT = ("install it with `apt-get install nginx libnginx-mod-http-js` "
                      "(or `make setup`), or set CRASHCART_NGINX to the nginx binary")
_JS_MODULE = "ngx_http_js_module.so"
_MODULE_DIRS = ("/usr/lib/nginx/modules", "/usr/share/nginx/modules", "/etc/nginx/modules",
                "/usr/lib64/nginx/modules", "/usr/local/nginx/modules",
                "/opt/homebrew/lib/nginx/modules", "/usr/local/lib/nginx/modules")


def find_nginx() -> Path:
    """``$CRASHCART_NGINX``, else ``nginx`` on PATH or in /usr/sbin."""
    configured = os.environ.get("CRASHCART_NGINX")
    if configured:
        path = Path(configured)
        if not (path.is_file() and os.access(path, os.X_OK)):
            raise PreflightError([f"nginx binary not found at CRASHCART_NGINX={configured}; "
                                  f"{INSTALL_NGINX_HINT}"])
        return path
    found = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/usr/local/sbin")
    if not found:
        raise PreflightError([f"nginx binary not found on PATH; {INSTALL_NGINX_HINT}"])
    return Path(found)


def find_js_module(nginx: Path) -> Path:
    """Locate the njs dynamic module: $CRASHCART_NGINX_JS_MODULE, nginx's modules path, or
    the places distributions put it."""
    configured = os.environ.get("CRASHCART_NGINX_JS_MODULE")
    if configured:
        if Path(configured).is_file():
            return Path(configured)
        raise PreflightError([f"njs module not found at CRASHCART_NGINX_JS_MODULE={configured}"])
    candidates: list[str] = []
    try:
        out = subprocess.run([str(nginx), "-V"], capture_output=True, text=True, timeout=10)
        for token in (out.stderr + out.stdout).split():
            if token.startswith("--modules-path="):
                candidates.append(token.split("=", 1)[1])
            elif token.startswith("--prefix="):
                candidates.append(token.split("=", 1)[1] + "/modules")
    except (OSError, subprocess.SubprocessError):
        pass
    for directory in (*candidates, *_MODULE_DIRS):
        path = Path(directory) / _JS_MODULE
        if path.is_file():
            return path
    raise PreflightError([f"the nginx njs module ({_JS_MODULE}) was not found; "
                          f"install it with `apt-get install libnginx-mod-http-js` "
                          f"(or `make setup`), or set CRASHCART_NGINX_JS_MODULE"])


def check_dependencies(topology: Topology) -> list[str]:
    """PostgreSQL and RabbitMQ must accept TCP connections."""
    problems = []
    for label, section, spec, service in (
        ("PostgreSQL", "postgres", topology.postgres, "postgresql"),
        ("RabbitMQ", "rabbitmq", topology.rabbitmq, "rabbitmq-server"),
    ):
        reason = can_connect(spec.host, spec.port, timeout=2.0)
        if reason:
            env = f"CRASHCART_{section.upper()}"
            problems.append(
                f"{label} is not reachable at {spec.host}:{spec.port} ({reason}); start it "
                f"(e.g. `service {service} start`) or point [{section}] host/port in "
                f"{topology.source} (or {env}_HOST/{env}_PORT) at it")
    return problems


def check_ports(ports: dict[str, int], host: str = "127.0.0.1") -> list[str]:
    """Every port the platform will listen on must be free."""
    problems = []
    for owner, port in ports.items():
        if not port_is_free(port, host):
            holder = port_holder(port) or "an unidentified process"
            problems.append(f"port {port} (for {owner}) is already in use by {holder}; stop "
                            f"it, or move the platform (CRASHCART_PORT_OFFSET=<n> or edit "
                            f"the topology)")
    return problems
