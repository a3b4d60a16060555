"""What faults are in force on a platform, and removing them all.

Why: the report shows the faults in force during a test, a test or layer that ends with a
fault still applied is a failure of its own ("fault left behind"), and an interrupted run
must leave a clean platform. Toxics and disabled proxies are read from the Toxiproxy admin
API; process faults (a paused or dead component) from the local backend's state.
"""

from __future__ import annotations

import importlib
import importlib.util
from typing import Any

import httpx

from chaos.backends.local import LocalBackend, procs, toxiproxy_server

HEAL_COMMAND_MODULE = "chaos.commands.heal"


def proxies(toxiproxy_url: str, *, timeout_s: float = 5.0) -> dict[str, Any]:
    """``GET /proxies``: every proxy with its toxics (empty when the server is gone)."""
    try:
        answer = httpx.get(f"{toxiproxy_url}/proxies", timeout=timeout_s)
        return dict(answer.json()) if answer.status_code == 200 else {}
    except (httpx.HTTPError, ValueError):
        return {}


def mesh_faults(toxiproxy_url: str) -> list[str]:
    """One line per fault on the mesh: a disabled proxy or a toxic, sorted."""
    found = []
    for name, proxy in sorted(proxies(toxiproxy_url).items()):
        if not proxy.get("enabled", True):
            found.append(f"proxy {name} is disabled")
        for toxic in proxy.get("toxics") or []:
            attrs = ", ".join(f"{k}={v}" for k, v in sorted((toxic.get("attributes") or {}).items()))
            found.append(f"proxy {name} has toxic {toxic.get('name')} ({toxic.get('type')}, "
                         f"{toxic.get('stream')}, toxicity {toxic.get('toxicity')}: {attrs})")
    return found


def process_faults(backend: LocalBackend) -> list[str]:
    """One line per recorded component that is paused or not running."""
    state = backend.state.load()
    found = []
    for record in state.components if state else []:
        if not procs.is_alive(record.pid, record.create_time):
            found.append(f"{record.name} (pid {record.pid}) is not running")
        elif procs.is_stopped(record.pid):
            found.append(f"{record.name} (pid {record.pid}) is paused")
    return found


def faults_in_force(backend: LocalBackend, toxiproxy_url: str) -> list[str]:
    return mesh_faults(toxiproxy_url) + process_faults(backend)


def snapshot(toxiproxy_url: str) -> str:
    """A readable table of every proxy (listen → upstream, enabled) and its toxics."""
    lines = []
    for name, proxy in sorted(proxies(toxiproxy_url).items()):
        state = "enabled" if proxy.get("enabled", True) else "DISABLED"
        lines.append(f"{name}: {proxy.get('listen')} -> {proxy.get('upstream')} [{state}]")
        for toxic in proxy.get("toxics") or []:
            lines.append(f"    toxic {toxic.get('name')}: {toxic.get('type')} {toxic.get('stream')}"
                         f" toxicity={toxic.get('toxicity')} {toxic.get('attributes')}")
    return "\n".join(lines) or f"(no proxies at {toxiproxy_url})"


def heal_everything(backend: LocalBackend, toxiproxy_url: str) -> list[str]:
    """Remove every fault: the chaos layer's own heal when it exists, the mesh reset, the
    backend's process heal. Returns what was done, for the terminal and the report."""
    done = []
    extra = _heal_command()
    if extra is not None:
        try:
            extra(backend, toxiproxy_url)
            done.append(f"{HEAL_COMMAND_MODULE} healed")
        except Exception as exc:  # noqa: BLE001 - the built-in heal below still runs
            done.append(f"{HEAL_COMMAND_MODULE} failed: {exc}")
    try:
        toxiproxy_server.reset(toxiproxy_url)
        done.append("mesh reset (every proxy enabled, every toxic removed)")
    except httpx.HTTPError as exc:
        done.append(f"mesh reset failed: {exc}")
    if backend.state.load() is not None:
        healed = backend.heal()
        if healed:
            done.append(f"process faults healed: {', '.join(healed)}")
    return done


def _heal_command() -> Any:
    """The chaos layer's heal entry point, if its module is there (it may not be yet)."""
    if importlib.util.find_spec(HEAL_COMMAND_MODULE) is None:
        return None
    module = importlib.import_module(HEAL_COMMAND_MODULE)
    return getattr(module, "heal_platform", None)
