"""What faults are in force on a platform, and removing them all.

Why: the report shows the faults in force during a test, a test or layer that ends with a
fault still applied is a failure of its own ("fault left behind"), and an interrupted run
must leave a clean platform. Toxics and disabled proxies are read from the Toxiproxy admin
API; process faults (a paused or dead component) from the local backend's state; faults the
chaos layer recorded and has not undone (broker faults too) from its ledger
(``chaos.faults.Ledger``). Healing uses the chaos layer's ``heal_everything`` (what
``crashcart heal`` does), then the backend's own reset and heal as a net.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import httpx

from chaos.backends.local import LocalBackend, procs, toxiproxy_server


def proxies(toxiproxy_url: str, *, timeout_s: float = 5.0) -> dict[str, Any]:
    """``GET /proxies``: every proxy with its toxics (empty when the server is gone)."""
    try:
        answer = httpx.get(f"{toxiproxy_url}/proxies", timeout=timeout_s)
        return dict(answer.json()) if answer.status_code == 200 else {}
    except (httpx.HTTPError, ValueError):
        return {}


def mesh_faults(toxiproxy_url: str) -> list[str]:
    """One line per fault on the mesh: a disabled proxy or a toxic, sorted."""
    return describe_mesh(proxies(toxiproxy_url))


def describe_mesh(listing: dict[str, Any]) -> list[str]:
    found = []
    for name, proxy in sorted(listing.items()):
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


def ledger_faults(state_dir: Path) -> list[str]:
    """Faults the chaos layer recorded as applied and not yet undone (read without its lock:
    ``Ledger.snapshot`` locks and rewrites the file, too heavy for a probe per request)."""
    try:
        from chaos.faults import Ledger
    except ImportError:  # pragma: no cover - the chaos layer predates its ledger
        return []
    try:
        raw = json.loads(Ledger(state_dir).path.read_text())
    except FileNotFoundError:
        return []
    except (OSError, ValueError) as exc:
        return [f"fault ledger unreadable: {exc}"]
    return [f"recorded fault not undone: {item.get('description', item)}"
            for item in raw if isinstance(item, dict)]


def faults_in_force(backend: LocalBackend, toxiproxy_url: str) -> list[str]:
    return (mesh_faults(toxiproxy_url) + process_faults(backend)
            + ledger_faults(backend.state.root))


class FaultProbe:
    """``faults_in_force`` for a probe before every request of a test: one kept-alive
    connection to the admin API, and at most one look per ``min_interval_s``."""

    def __init__(self, backend: LocalBackend, toxiproxy_url: str, *,
                 min_interval_s: float = 0.5) -> None:
        self.backend = backend
        self.toxiproxy_url = toxiproxy_url
        self.min_interval_s = min_interval_s
        self._client = httpx.Client(timeout=5.0)
        self._last: list[str] = []
        self._at = 0.0

    def __call__(self) -> list[str]:
        now = time.monotonic()
        if self._at and now - self._at < self.min_interval_s:
            return self._last
        self._at = now
        self._last = (self._mesh() + process_faults(self.backend)
                      + ledger_faults(self.backend.state.root))
        return self._last

    def _mesh(self) -> list[str]:
        try:
            answer = self._client.get(f"{self.toxiproxy_url}/proxies")
            listing = dict(answer.json()) if answer.status_code == 200 else {}
        except (httpx.HTTPError, ValueError):
            listing = {}
        return describe_mesh(listing)

    def close(self) -> None:
        self._client.close()


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
    """Remove every fault: the chaos layer's heal (ledger, mesh, components), then the mesh
    reset and the backend's process heal. Returns what was done, for terminal and report."""
    done = _chaos_heal(backend, toxiproxy_url)
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


def _chaos_heal(backend: LocalBackend, toxiproxy_url: str) -> list[str]:
    try:
        from chaos.faults import FaultContext, heal_everything
    except ImportError:  # pragma: no cover - the chaos layer predates its heal
        return []
    try:
        ctx = FaultContext.from_environment(backend.state.root, toxiproxy_url)
        try:
            report = heal_everything(ctx)
        finally:
            ctx.close()
    except Exception as exc:  # noqa: BLE001 - the built-in heal below still runs
        return [f"crashcart heal failed: {exc!r}"]
    return ([f"undone: {line}" for line in report.undone]
            + [f"component healed: {name}" for name in report.components]
            + [f"heal error: {error}" for error in report.errors])
