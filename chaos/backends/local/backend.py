"""The local backend: the whole topology as processes on this machine.

Order of start: preflight → Toxiproxy + mesh → services (through their proxies) → nginx.
Everything started is recorded in the state file as soon as it runs, so ``down`` from
another process — or the rollback of a failed ``up`` — stops exactly that.
"""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from chaos.backends.local import nginx as nginx_proc
from chaos.backends.local import preflight, procs
from chaos.backends.local import toxiproxy_server as toxi
from chaos.backends.local.errors import ComponentFailed, PlatformError, PreflightError
from chaos.backends.local.ports import port_holder, wait_ports_free
from chaos.backends.local.services import service_command, service_environment
from chaos.backends.local.state import (
    ComponentRecord,
    PlatformState,
    StateDir,
    default_state_dir,
)
from chaos.topology import Topology, load_topology

Progress = Callable[[str], None]

TOXIPROXY = "toxiproxy"
GATEWAY = "gateway"


def _quiet(_: str) -> None:
    pass


@dataclass(slots=True)
class PlatformHandle:
    """What a running platform offers to callers (CLI, fixtures, experiments)."""

    gateway_url: str
    toxiproxy_url: str
    service_urls: dict[str, str]
    backend: LocalBackend
    already_running: bool = False

    def down(self) -> DownReport:
        return self.backend.down()

    def status(self) -> list[ComponentStatus]:
        return self.backend.status()


@dataclass(slots=True)
class ComponentStatus:
    component: str
    pid: int | None
    port: int | None
    up: bool
    ready: bool
    paused: bool = False


@dataclass(slots=True)
class DownReport:
    stopped: list[str] = field(default_factory=list)
    leftover_ports: dict[int, str] = field(default_factory=dict)
    was_running: bool = False

    @property
    def clean(self) -> bool:
        return not self.leftover_ports


class LocalBackend:
    """Bring the platform up/down locally and inflict process faults on its components."""

    def __init__(self, topology: Topology | None = None, state_dir: Path | str | None = None,
                 *, ready_timeout: float = 120.0) -> None:
        self.topology = topology or load_topology()
        self.state = StateDir(Path(state_dir) if state_dir else default_state_dir())
        self.ready_timeout = ready_timeout

    # ---- lifecycle ------------------------------------------------------------------------
    def up(self, progress: Progress = _quiet) -> PlatformHandle:
        """Start everything and wait until the gateway reports every service ready.

        Idempotent: when the recorded platform is running, returns its handle. A failure
        halfway stops what this call started and raises with the failing log's tail.
        """
        existing = self.state.load()
        if existing is not None:
            dead = [c.name for c in existing.components
                    if not procs.is_alive(c.pid, c.create_time)]
            if not dead:
                progress(f"platform already up (state {self.state.state_file})")
                return self._handle(existing, already_running=True)
            progress(f"stale state: {', '.join(dead)} not running; cleaning up first")
            self.down(progress)

        topo = self.topology
        external = toxi.external_url()
        ports = topo.listening_ports()
        if external:
            ports.pop(TOXIPROXY)
            # Proxies a shared server already holds for us are reused by populate.
            for name in toxi.existing_matching_proxies(external, topo):
                ports.pop(name, None)
        problems = preflight.check_dependencies(topo)
        try:
            nginx_bin = preflight.find_nginx()
            js_module = preflight.find_js_module(nginx_bin)
        except PreflightError as exc:
            problems.extend(exc.problems)
        problems.extend(preflight.check_ports(ports))
        if problems:
            raise PreflightError(problems)

        self.state.prepare()
        state = PlatformState(
            topology=str(topo.source), gateway_url=topo.gateway_url,
            toxiproxy_url=external or topo.toxiproxy_url, service_urls=topo.service_urls,
            ports=ports, external_toxiproxy=bool(external),
        )
        self.state.save(state)
        try:
            self._start_toxiproxy(state, progress)
            progress(f"populating the mesh: {len(topo.edges)} proxies")
            toxi.populate(state.toxiproxy_url, topo)
            for name in topo.services:
                self._start_service(state, name, progress)
            self._wait_services_ready(state, list(topo.services), progress)
            conf = nginx_proc.prepare_config(topo, self.state, nginx_bin, js_module)
            self._start_gateway(state, nginx_bin, conf, progress)
        except BaseException as exc:
            progress(f"start failed ({type(exc).__name__}); stopping what was started")
            self.down(progress)
            raise
        progress(f"platform up: gateway {topo.gateway_url}")
        return self._handle(state)

    def down(self, progress: Progress = _quiet) -> DownReport:
        """Stop every recorded component (TERM, wait, KILL) and verify the ports are free."""
        report = DownReport()
        state = self.state.load()
        ports = list(self.topology.listening_ports().values())
        if state is not None:
            report.was_running = True
            ports = sorted(set(ports) | set(state.ports.values()))
            for record in reversed(state.components):
                if procs.stop_group(record.pid, started=record.create_time):
                    progress(f"stopped {record.name} (pid {record.pid})")
                report.stopped.append(record.name)
            self.state.clear()
            if state.external_toxiproxy:
                self._remove_external_proxies(state.toxiproxy_url)
                ports = [p for p in ports if p != self.topology.toxiproxy.port]
            for port in wait_ports_free(ports, timeout=5.0):
                report.leftover_ports[port] = port_holder(port) or "unknown process"
        return report

    def status(self) -> list[ComponentStatus]:
        state = self.state.load()
        if state is None:
            return []
        rows = []
        for record in state.components:
            alive = procs.is_alive(record.pid, record.create_time)
            rows.append(ComponentStatus(
                component=record.name, pid=record.pid,
                port=record.ports[0] if record.ports else None, up=alive,
                ready=alive and _probe(record.ready_url),
                paused=alive and procs.is_stopped(record.pid),
            ))
        return rows

    def handle(self) -> PlatformHandle:
        state = self.state.load()
        if state is None:
            raise PlatformError(f"platform is not up (no state at {self.state.state_file})")
        return self._handle(state, already_running=True)

    # ---- process faults -------------------------------------------------------------------
    def stop_service(self, name: str, *, timeout: float = 10.0) -> None:
        """Graceful stop (TERM → KILL after ``timeout``); ``start_service`` brings it back."""
        record = self._record(name)
        procs.stop_group(record.pid, started=record.create_time, timeout=timeout)

    def kill_service(self, name: str) -> None:
        """SIGKILL the whole process group: a crash, no cleanup."""
        record = self._record(name)
        procs.signal_group(record.pid, signal.SIGKILL)
        deadline = time.monotonic() + 5.0
        while procs.is_alive(record.pid, record.create_time) and time.monotonic() < deadline:
            procs.reap(record.pid)
            time.sleep(0.02)

    def pause_service(self, name: str) -> None:
        """SIGSTOP: the process keeps its sockets but answers nothing (a hang)."""
        procs.signal_group(self._record(name).pid, signal.SIGSTOP)

    def resume_service(self, name: str) -> None:
        procs.signal_group(self._record(name).pid, signal.SIGCONT)

    def start_service(self, name: str, *, wait: bool = True,
                      progress: Progress = _quiet) -> None:
        """Start a stopped/killed component again with the same command and environment."""
        state = self._state()
        record = state.component(name)
        if procs.is_alive(record.pid, record.create_time):
            return
        procs.reap(record.pid)
        wait_ports_free(record.ports, timeout=5.0)
        if record.kind == "service":
            self._start_service(state, name, progress)
            if wait:
                self._wait_services_ready(state, [name], progress)
        elif record.kind == "gateway":
            proc = procs.spawn(record.command, log_path=Path(record.log))
            self._record_started(state, record.name, record.kind, proc, record.ports,
                                 Path(record.log), record.command, record.ready_url)
            if wait:
                self._wait_ready(state, name, progress, deadline=self._deadline())
        else:
            raise PlatformError(f"cannot restart component {name!r} of kind {record.kind}")

    def restart_service(self, name: str, *, wait: bool = True) -> None:
        self.stop_service(name)
        self.start_service(name, wait=wait)

    def heal(self) -> list[str]:
        """Undo process faults: resume paused components, start dead ones; returns names."""
        healed = []
        state = self.state.load()
        for record in state.components if state else []:
            if procs.is_alive(record.pid, record.create_time):
                if procs.is_stopped(record.pid):
                    self.resume_service(record.name)
                    healed.append(record.name)
            elif record.kind in ("service", "gateway"):
                self.start_service(record.name)
                healed.append(record.name)
        return healed

    # Short names: the fault vocabulary shared with the compose backend.
    stop = stop_service
    start = start_service
    kill = kill_service
    pause = pause_service
    resume = resume_service
    restart = restart_service

    def log_path(self, name: str) -> Path:
        return self.state.log_path(name)

    # ---- internals ------------------------------------------------------------------------
    def _handle(self, state: PlatformState, already_running: bool = False) -> PlatformHandle:
        return PlatformHandle(gateway_url=state.gateway_url, toxiproxy_url=state.toxiproxy_url,
                              service_urls=dict(state.service_urls), backend=self,
                              already_running=already_running)

    def _state(self) -> PlatformState:
        state = self.state.load()
        if state is None:
            raise PlatformError(f"platform is not up (no state at {self.state.state_file})")
        return state

    def _record(self, name: str) -> ComponentRecord:
        return self._state().component(name)

    def _deadline(self) -> float:
        return time.monotonic() + self.ready_timeout

    def _record_started(self, state: PlatformState, name: str, kind: str,
                        proc: subprocess.Popen[bytes], ports: list[int], log: Path,
                        command: list[str], ready_url: str) -> ComponentRecord:
        record = ComponentRecord(name=name, kind=kind, pid=proc.pid, ports=ports, log=str(log),
                                 create_time=procs.create_time(proc.pid), command=command,
                                 ready_url=ready_url)
        if any(r.name == name for r in state.components):
            state.replace_component(record)
        else:
            state.components.append(record)
        self.state.save(state)
        return record

    def _start_toxiproxy(self, state: PlatformState, progress: Progress) -> None:
        if state.external_toxiproxy:
            progress(f"using the Toxiproxy server at {state.toxiproxy_url} (TOXIPROXY_URL)")
            if not toxi.is_ready(state.toxiproxy_url):
                raise ComponentFailed(TOXIPROXY, f"TOXIPROXY_URL={state.toxiproxy_url} "
                                                 f"does not answer GET /version")
            return
        spec = self.topology.toxiproxy
        command = toxi.server_command(spec.host, spec.port)
        log = self.state.log_path(TOXIPROXY)
        progress(f"starting toxiproxy on {spec.host}:{spec.port}")
        proc = procs.spawn(command, log_path=log)
        self._record_started(state, TOXIPROXY, "toxiproxy", proc, [spec.port], log, command,
                             f"{spec.url}/version")
        self._wait_ready(state, TOXIPROXY, progress, deadline=time.monotonic() + 30.0)

    def _start_service(self, state: PlatformState, name: str, progress: Progress) -> None:
        spec = self.topology.service(name)
        command = service_command(self.topology, name)
        log = self.state.log_path(name)
        progress(f"starting {name} service on {spec.host}:{spec.port}")
        proc = procs.spawn(command, log_path=log, env=service_environment(self.topology, name))
        self._record_started(state, name, "service", proc, [spec.port], log, command,
                             f"{spec.url}/health/ready")

    def _start_gateway(self, state: PlatformState, nginx_bin: Path, conf: Path,
                       progress: Progress) -> None:
        gw = self.topology.gateway
        command = nginx_proc.nginx_command(nginx_bin, self.state, conf)
        log = self.state.log_path(GATEWAY)
        progress(f"starting nginx gateway on {gw.host}:{gw.port}")
        proc = procs.spawn(command, log_path=log)
        self._record_started(state, GATEWAY, "gateway", proc, [gw.port], log, command,
                             f"{gw.url}/health")
        self._wait_ready(state, GATEWAY, progress, deadline=self._deadline())

    def _wait_services_ready(self, state: PlatformState, names: list[str],
                             progress: Progress) -> None:
        deadline = self._deadline()
        for name in names:
            self._wait_ready(state, name, progress, deadline=deadline)

    def _wait_ready(self, state: PlatformState, name: str, progress: Progress, *,
                    deadline: float) -> None:
        """Poll the component's readiness URL until 200, its death, or the deadline."""
        record = state.component(name)
        started = time.monotonic()
        next_note = started + 5.0
        while True:
            if not procs.is_alive(record.pid, record.create_time):
                procs.reap(record.pid)
                raise ComponentFailed(name, "exited during start-up", self._log_tail(record))
            if _probe(record.ready_url):
                progress(f"{name} ready ({time.monotonic() - started:.1f}s)")
                return
            now = time.monotonic()
            if now >= deadline:
                raise ComponentFailed(name, f"not ready after {self.ready_timeout:.0f}s "
                                            f"({record.ready_url})", self._log_tail(record))
            if now >= next_note:
                progress(f"waiting for {name} ({now - started:.0f}s) ...")
                next_note = now + 5.0
            time.sleep(0.2)

    def _log_tail(self, record: ComponentRecord) -> str:
        text = procs.tail(record.log)
        if record.kind == "gateway":
            text = "\n".join(filter(None, [text, procs.tail(self.state.logs /
                                                               "gateway.error.log")]))
        return text

    def _remove_external_proxies(self, url: str) -> None:
        """With a shared external server, remove only our proxies so their ports close."""
        for name in self.topology.proxy_names:
            try:
                httpx.delete(f"{url}/proxies/{name}", timeout=5.0)
            except httpx.HTTPError:
                return


def _probe(url: str) -> bool:
    if not url:
        return False
    try:
        return httpx.get(url, timeout=2.0).status_code == 200
    except httpx.HTTPError:
        return False
