"""CPU time each platform process spends per checkout: the figure that survives a busy machine.

On a shared 2-core machine, throughput and latency measure the other tenants as much as the
platform; the CPU seconds the platform's own processes burn per completed checkout do not
(apart from cache effects). Processes come from the local backend's state file (each
component is its own process group, so nginx's workers are counted with their master).
"""
from __future__ import annotations

import json
import os
from collections.abc import Collection

import psutil

from chaos.backends.local.state import STATE_FILE_NAME, default_state_dir

Snapshot = dict[tuple[str, int], float]
"""(component name, pid) -> CPU seconds so far."""


def snapshot(databases: Collection[str] = ()) -> Snapshot:
    """CPU seconds (user + system) so far of every process of every component's process
    group, and of the PostgreSQL backends serving `databases` (the pools' connections);
    empty when no local platform state is found. Kept per pid: a backend that exits
    between two snapshots (an idle pool connection closed) must not count negative."""
    try:
        state = json.loads((default_state_dir() / STATE_FILE_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    groups = {int(c["pid"]): str(c["name"]) for c in state.get("components", [])}
    totals: Snapshot = {}
    for process in psutil.process_iter(["pid"]):
        try:
            name = groups.get(os.getpgid(process.pid))
            if name is None and databases and process.name() == "postgres":
                title = " ".join(process.cmdline())
                name = "postgres backends" if any(f" {db} " in title for db in databases) else None
            if name is None:
                continue
            times = process.cpu_times()
            totals[(name, process.pid)] = times.user + times.system
        except (psutil.Error, OSError):
            continue
    return totals


def spent(before: Snapshot, after: Snapshot) -> dict[str, float]:
    """CPU seconds each component spent between two snapshots (a process that started in
    between counts whole; one that exited in between is lost, never negative)."""
    totals: dict[str, float] = {}
    for (name, pid), seconds in after.items():
        totals[name] = totals.get(name, 0.0) + seconds - before.get((name, pid), 0.0)
    return totals


def table(before: Snapshot, after: Snapshot, checkouts: int) -> str:
    """CPU ms per completed checkout of each component and of the whole platform."""
    if not after or checkouts <= 0:
        return "(no local platform state: CPU per checkout not measured)"
    rows = ["| process | CPU ms per checkout |", "|---|---:|"]
    total = 0.0
    by_name = spent(before, after)
    for name in sorted(by_name, key=lambda n: -by_name[n]):
        total += by_name[name]
        rows.append(f"| {name} | {1e3 * by_name[name] / checkouts:.1f} |")
    rows.append(f"| **platform total** | **{1e3 * total / checkouts:.1f}** |")
    return "\n".join(rows)


def shared_snapshot() -> dict[str, float]:
    """CPU seconds so far of what the platform shares with other instances or tenants: the
    RabbitMQ server (every ``beam.smp``) and the whole machine (every CPU's busy time:
    user, nice, system, irq, softirq; not idle, iowait or steal). Per checkout, the
    machine's figure is what a throughput goal on this machine must fit in."""
    broker = 0.0
    for pid in broker_pids():
        try:
            times = psutil.Process(pid).cpu_times()
            broker += times.user + times.system
        except (psutil.Error, OSError):
            continue
    return {"RabbitMQ (shared)": broker, "machine (everything)": machine_busy_s()}


def broker_pids() -> list[int]:
    """Every RabbitMQ server process (``beam.smp``) on the machine."""
    return [p.pid for p in psutil.process_iter(["name"]) if p.info["name"] == "beam.smp"]


def machine_busy_s() -> float:
    """Busy CPU seconds of every CPU so far: user, nice, system, irq, softirq."""
    cpu = psutil.cpu_times()
    return (cpu.user + cpu.nice + cpu.system + getattr(cpu, "irq", 0.0)
            + getattr(cpu, "softirq", 0.0))


def shared_line(before: dict[str, float], after: dict[str, float], checkouts: int) -> str:
    """One line: the shared figures' CPU ms per completed checkout."""
    if checkouts <= 0:
        return "(no checkout completed: shared CPU not measured)"
    return "outside the platform's own processes, per checkout: " + ", ".join(
        f"{name} {1e3 * (after[name] - before.get(name, 0.0)) / checkouts:.1f} ms"
        for name in after)
