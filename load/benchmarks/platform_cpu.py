"""CPU time each platform process spends per checkout: the figure that survives a busy machine.

On a shared 2-core machine, throughput and latency measure the other tenants as much as the
platform; the CPU seconds the platform's own processes burn per completed checkout do not
(apart from cache effects). Processes come from the local backend's state file (each
component is its own process group, so nginx's workers are counted with their master).
"""
from __future__ import annotations

import json
import os
from collections.abc import Collection, Mapping

import psutil

from chaos.backends.local.state import STATE_FILE_NAME, default_state_dir


def snapshot(databases: Collection[str] = ()) -> dict[str, float]:
    """CPU seconds (user + system) so far of every component's process group, by name, and
    of the PostgreSQL backends serving `databases` (the pools' long-lived connections);
    empty when no local platform state is found."""
    try:
        state = json.loads((default_state_dir() / STATE_FILE_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    groups = {int(c["pid"]): str(c["name"]) for c in state.get("components", [])}
    totals = dict.fromkeys(groups.values(), 0.0)
    if databases:
        totals["postgres backends"] = 0.0
    for process in psutil.process_iter(["pid"]):
        try:
            name = groups.get(os.getpgid(process.pid))
            if name is None and databases and process.name() == "postgres":
                title = " ".join(process.cmdline())
                name = "postgres backends" if any(f" {db} " in title for db in databases) else None
            if name is None:
                continue
            times = process.cpu_times()
            totals[name] += times.user + times.system
        except (psutil.Error, OSError):
            continue
    return totals


def table(before: Mapping[str, float], after: Mapping[str, float], checkouts: int) -> str:
    """CPU ms per completed checkout of each component and of the whole platform."""
    if not after or checkouts <= 0:
        return "(no local platform state: CPU per checkout not measured)"
    rows = ["| process | CPU ms per checkout |", "|---|---:|"]
    total = 0.0
    for name in sorted(after, key=lambda n: before.get(n, 0.0) - after[n]):
        spent = after[name] - before.get(name, 0.0)
        total += spent
        rows.append(f"| {name} | {1e3 * spent / checkouts:.1f} |")
    rows.append(f"| **platform total** | **{1e3 * total / checkouts:.1f}** |")
    return "\n".join(rows)
