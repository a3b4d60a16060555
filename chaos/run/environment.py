"""The report's environment block and executor: what ran against what.

Why: a failure is only readable next to the versions, the Toxiproxy server, the seed and
the topology it ran with. Values are read from the running platform where it answers
(service OpenAPI versions, Toxiproxy ``/version``) and from the topology otherwise.
"""

from __future__ import annotations

import json
import os
import platform as stdlib_platform
import socket
import subprocess
import sys
from collections.abc import Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

import httpx

from chaos.topology import REPO_ROOT, Topology
from chaos.toxiproxy.select import resolve_server


def git_commit(root: Path = REPO_ROOT) -> str:
    try:
        out = subprocess.run(["git", "-C", str(root), "rev-parse", "--short", "HEAD"],
                             capture_output=True, text=True, timeout=10, check=False)
        return out.stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def _json(url: str) -> Any:
    try:
        answer = httpx.get(url, timeout=3.0)
        return answer.json() if answer.status_code == 200 else None
    except (httpx.HTTPError, ValueError):
        return None


def environment(topology: Topology, *, toxiproxy_url: str | None = None,
                service_urls: Mapping[str, str] | None = None,
                extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """Key → value lines of ``environment.properties`` (sorted by the caller's order)."""
    urls = dict(service_urls or topology.service_urls)
    choice = resolve_server(host=topology.toxiproxy.host, port=topology.toxiproxy.port)
    toxi_url = toxiproxy_url or choice.url
    version = _json(f"{toxi_url}/version")
    try:
        harness = metadata.version("crashcart")
    except metadata.PackageNotFoundError:
        harness = "unknown"
    env = {
        "crashcart": f"{harness} (git {git_commit()})",
        "python": sys.version.split()[0],
        "os": f"{stdlib_platform.system()} {stdlib_platform.release()}",
        "gateway": topology.gateway_url,
        "toxiproxy.kind": choice.kind,
        "toxiproxy.url": toxi_url,
        "toxiproxy.version": str(version.get("version")) if isinstance(version, dict)
        else "not answering",
        "topology": str(topology.source),
        "topology.services": ", ".join(topology.services),
        "topology.proxies": str(len(topology.proxy_names)),
        "topology.port_offset": os.environ.get("CRASHCART_PORT_OFFSET", "0"),
    }
    for name in topology.services:
        document = _json(f"{str(urls.get(name, '')).rstrip('/')}/openapi.json")
        info = document.get("info", {}) if isinstance(document, dict) else {}
        env[f"service.{name}"] = (f"{info.get('title', name)} {info.get('version', '?')}"
                                  if info else "not answering")
    env.update(extra or {})
    return env


def write_environment(results_dir: Path, values: Mapping[str, str]) -> Path:
    results_dir.mkdir(parents=True, exist_ok=True)
    path = results_dir / "environment.properties"
    lines = [f"{key}={_escape(str(value))}" for key, value in values.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n")


def write_executor(results_dir: Path, *, build_name: str, build_order: int,
                   report_url: str = "") -> Path:
    """``executor.json``: who produced the results (CI when ``$CI`` is set, else this host)."""
    ci = bool(os.environ.get("CI"))
    executor = {
        "name": "CI (.ci/run)" if ci else f"crashcart run on {socket.gethostname()}",
        "type": "ci" if ci else "local",
        "buildName": build_name,
        "buildOrder": build_order,
        "reportName": "Crashcart",
        "reportUrl": report_url,
    }
    results_dir.mkdir(parents=True, exist_ok=True)
    path = results_dir / "executor.json"
    path.write_text(json.dumps(executor, indent=2), encoding="utf-8")
    return path
