"""Run a patched COPY of one platform service on a free port, against its own database.

The planted-bug tests (and tests that need a service with other settings, e.g. tiny login
throttle limits) must not touch the tree other engineers edit nor the shared instance: the
`platform/` folder is copied to a temp dir, patched there, and the service runs from the copy
(`PYTHONPATH` puts the copy's packages before the editable install). It gets a fresh database
on the PostgreSQL server and an unreachable broker, so it never consumes the real instance's
saga events; everything else (JWT secret, dependency URLs through the mesh) is the running
platform's. The process and the database are removed afterwards, also on failure.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from chaos.topology import REPO_ROOT, Topology
from suites.helpers.platform_db import drop_database
from suites.helpers.waiting import poll_until

PLATFORM_DIR = REPO_ROOT / "platform"
#: Nothing listens here: the copy's broker client keeps retrying, HTTP serves meanwhile.
NO_BROKER_URL = "amqp://guest:guest@127.0.0.1:9/"


@dataclass(frozen=True, slots=True)
class ServiceCopy:
    service: str
    url: str
    log_path: Path
    database: str

    def log_tail(self, lines: int = 60) -> str:
        text = self.log_path.read_text(encoding="utf-8", errors="replace")
        return "\n".join(text.splitlines()[-lines:])


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def copy_platform(dest: Path) -> Path:
    """A copy of `platform/` (no caches) under `dest`; returns the copy's root."""
    root = dest / "platform"
    shutil.copytree(PLATFORM_DIR, root, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    return root


def patch_source(root: Path, relative: str, old: str, new: str) -> None:
    """Replace one exact snippet in the copy (fails loudly when the code moved on)."""
    path = root / relative
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{relative}: snippet to patch found {text.count(old)} times"
    path.write_text(text.replace(old, new), encoding="utf-8")


@contextlib.contextmanager
def run_service_copy(topology: Topology, service: str, root: Path, log_dir: Path, *,
                     env: dict[str, str] | None = None,
                     ready_timeout_s: float = 60.0,
                     database: str | None = None) -> Iterator[ServiceCopy]:
    """Start `service` from the copy at `root`; yield its URL once it answers /health/live.

    `database`: run on this one and leave it (several processes or a restart on one database,
    see `copy_database`); by default the copy gets a fresh database, dropped afterwards.
    """
    pg = topology.postgres
    owns_database = database is None
    database = database or copy_database_name(topology, service)
    port = free_port()
    spec = topology.service(service)
    full_env = {
        **os.environ, **topology.service_env(service),
        "DATABASE_URL": pg.url(database, host=pg.host, port=pg.port),
        "AMQP_URL": NO_BROKER_URL,
        "PYTHONPATH": str(root),
        **(env or {}),
    }
    log_path = log_dir / f"{service}-copy-{port}.log"
    module = f"{service}_service.main:app"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", module, "--host", "127.0.0.1", "--port",
             str(port)],
            cwd=root, env=full_env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True)
    copy = ServiceCopy(service, f"http://127.0.0.1:{port}", log_path, database)
    try:
        def live() -> bool:
            if process.poll() is not None:
                return True
            try:
                return httpx.get(f"{copy.url}/health/live", timeout=2.0).status_code == 200
            except httpx.HTTPError:
                return False

        poll_until(live, bool, timeout=ready_timeout_s, interval=0.2)
        assert process.poll() is None, f"{service} copy exited:\n{copy.log_tail()}"
        assert live(), f"{service} copy not live after {ready_timeout_s}s:\n{copy.log_tail()}"
        assert spec.name == service
        yield copy
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)
        if owns_database:
            asyncio.run(drop_database(_server_url(topology), database))


def copy_database_name(topology: Topology, service: str) -> str:
    return f"{topology.service(service).database}_copy_{uuid.uuid4().hex[:8]}"


def _server_url(topology: Topology) -> str:
    pg = topology.postgres
    return pg.url("", host=pg.host, port=pg.port).rstrip("/")


@contextlib.contextmanager
def copy_database(topology: Topology, service: str) -> Iterator[str]:
    """A database name for copies of `service` that share it; dropped afterwards."""
    name = copy_database_name(topology, service)
    try:
        yield name
    finally:
        asyncio.run(drop_database(_server_url(topology), name))
