"""Providers started in contract-test mode: one uvicorn per service on a free port.

Why not the running platform: verification needs the state endpoint (``CONTRACT_TEST_MODE=1``,
which ``crashcart up`` never sets) and databases it may rewrite freely. So each provider gets
the topology's service environment with: its own throw-away database
(``<db>_pact``, dropped first), no broker (HTTP interactions need none; the outbox just keeps
its rows), dependencies pointed at the other contract-mode providers, and the state modules of
every pair it provides (``contracts.pairs``).
"""

from __future__ import annotations

import asyncio
import os
import socket
import sys
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx

from chaos.backends.local.procs import spawn, stop_group, tail
from chaos.topology import Topology
from contracts.pactkit import SERVICE_OF
from contracts.pairs import pairs_of_provider

READY_TIMEOUT_S = 60.0
LOG_DIR_ENV = "CRASHCART_STATE_DIR"


@dataclass(slots=True)
class ProviderProcess:
    provider: str
    url: str
    pid: int
    log_path: Path

    def log_tail(self, lines: int = 40) -> str:
        return tail(self.log_path, lines)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def contract_database(topology: Topology, service: str, instance: str = "") -> str:
    return f"{topology.service(service).database}_pact{instance}"


def _dead_broker_url() -> str:
    """An AMQP URL where nothing listens: contract-mode providers run without the broker."""
    return f"amqp://guest:guest@127.0.0.1:{free_port()}/"


async def _recreate(topology: Topology, database: str, *, create: bool = True) -> None:
    pg = topology.postgres
    conn = await asyncpg.connect(pg.url("postgres", host=pg.host, port=pg.port), timeout=10)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        if create:
            await conn.execute(f'CREATE DATABASE "{database}"')
    finally:
        await conn.close()


def provider_env(topology: Topology, provider: str, *, deps: Mapping[str, str],
                 database: str) -> dict[str, str]:
    service = SERVICE_OF[provider]
    pg = topology.postgres
    modules = [p.states_module for p in pairs_of_provider(provider) if p.states_module]
    env = dict(os.environ)
    env.update(topology.service_env(service))
    env.update({
        "DATABASE_URL": pg.url(database, host=pg.host, port=pg.port),
        "AMQP_URL": _dead_broker_url(),
        "CONTRACT_TEST_MODE": "1",
        "CONTRACT_STATE_HANDLERS": ",".join(modules),
        "USER_CACHE_TTL_S": "0",
        "HTTP_ATTEMPTS": "1",
        "DB_POOL_MAX": "3",  # the shared PostgreSQL has few connections to spare
        "PYTHONUNBUFFERED": "1",
    })
    for name, url in deps.items():
        env[f"{name.upper()}_SERVICE_URL"] = url
    return env


def _wait_live(url: str, proc_pid: int, log_path: Path, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/health/live", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        try:
            os.kill(proc_pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.2)
    raise RuntimeError(f"contract-mode provider at {url} did not come up:\n{tail(log_path, 40)}")


@contextmanager
def run_provider(topology: Topology, provider: str, *, deps: Mapping[str, str] | None = None,
                 log_dir: Path, env_extra: Mapping[str, str] | None = None,
                 app: str | None = None, instance: str = "") -> Iterator[ProviderProcess]:
    """Start ``provider`` in contract-test mode; always stopped afterwards.

    ``app``: another ASGI path to serve (a patched copy, ``contracts.mutants``);
    ``instance``: a database-name tag, so a second copy can run beside the first."""
    service = SERVICE_OF[provider]
    database = contract_database(topology, service, instance)
    asyncio.run(_recreate(topology, database))
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = provider_env(topology, provider, deps=deps or {}, database=database)
    env.update(env_extra or {})
    log_path = log_dir / f"contract-{service}{instance}.log"
    command = [sys.executable, "-m", "uvicorn", app or topology.service(service).app,
               "--host", "127.0.0.1", "--port", str(port)]
    proc = spawn(command, log_path=log_path, env=env)
    try:
        _wait_live(url, proc.pid, log_path, READY_TIMEOUT_S)
        yield ProviderProcess(provider, url, proc.pid, log_path)
    finally:
        stop_group(proc.pid, timeout=10)  # TERM, then KILL the group's stragglers
        proc.wait(timeout=5)
        with suppress(Exception):  # a throw-away database; recreated by the next run anyway
            asyncio.run(_recreate(topology, database, create=False))


def default_log_dir() -> Path:
    base = Path(os.environ.get(LOG_DIR_ENV) or Path.cwd() / ".crashcart")
    return base / "logs"


DEPENDENCIES = {"user-service": (), "product-service": ("user-service",),
                "payment-service": ("user-service",),
                "order-service": ("user-service", "product-service")}
"""Who each provider calls (order-service prices and checks users; every service checks
tokens' users with user-service), in a start order that has every dependency first."""


@contextmanager
def run_providers(topology: Topology, *, log_dir: Path,
                  apps: Mapping[str, str] | None = None, instance: str = "",
                  only: Iterable[str] | None = None) -> Iterator[dict[str, ProviderProcess]]:
    """The providers in contract-test mode, wired to each other; all stopped afterwards.

    ``only``: these providers and what they depend on (default: all four). ``apps`` maps a
    provider name to another ASGI path to serve (a patched copy); ``instance`` tags the
    databases so a second set can run beside the first.
    """
    wanted = set(only or DEPENDENCIES)
    for name in list(wanted):
        wanted |= set(DEPENDENCIES[name])
    other_apps = apps or {}
    running: dict[str, ProviderProcess] = {}
    with ExitStack() as stack:
        for provider in (p for p in DEPENDENCIES if p in wanted):
            deps = {SERVICE_OF[d]: running[d].url for d in DEPENDENCIES[provider]}
            running[provider] = stack.enter_context(run_provider(
                topology, provider, deps=deps, log_dir=log_dir, app=other_apps.get(provider),
                instance=instance))
        yield running
