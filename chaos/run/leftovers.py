"""Processes a run started, found by the run id in their environment.

Why: a layer may start processes outside its own process group (a platform instance, a
Locust worker, a Toxiproxy server, each in a session of its own); if an interrupt cut its
teardown short they would outlive the run. Every process a layer starts inherits
``CRASHCART_RUN_ID`` from the layer's environment, so the run can find and end exactly
those, and a test can check that none is left.
"""

from __future__ import annotations

import os
import time
from collections.abc import Collection

import psutil

RUN_ID_ENV = "CRASHCART_RUN_ID"


def processes_of_run(run_id: str, *, keep_groups: Collection[int] = ()) -> list[psutil.Process]:
    """Live processes (not this one) whose environment carries ``CRASHCART_RUN_ID=run_id``,
    except members of the process groups in ``keep_groups``: the platform's own components
    (a chaos test that restarts a service starts it from the layer, with the layer's
    environment, yet it is the platform's process now, recorded in its state)."""
    found = []
    me = os.getpid()
    for proc in psutil.process_iter(["pid"]):
        if proc.pid == me:
            continue
        try:
            if proc.environ().get(RUN_ID_ENV) != run_id or \
                    proc.status() == psutil.STATUS_ZOMBIE:
                continue
            if os.getpgid(proc.pid) in keep_groups:
                continue
            found.append(proc)
        except (psutil.Error, OSError):
            continue
    return found


def end_processes_of_run(run_id: str, *, keep_groups: Collection[int] = (),
                         grace_s: float = 5.0) -> list[str]:
    """TERM, then KILL after ``grace_s``, every process of the run; returns what was ended."""
    procs = processes_of_run(run_id, keep_groups=keep_groups)
    described = []
    for proc in procs:
        try:
            described.append(f"{proc.pid} {' '.join(proc.cmdline())[:120]}")
            proc.terminate()
        except psutil.Error:
            continue
    _, alive = psutil.wait_procs(procs, timeout=grace_s)
    for proc in alive:
        try:
            proc.kill()
        except psutil.Error:
            pass
    deadline = time.monotonic() + 2.0
    while alive and time.monotonic() < deadline:
        alive = [p for p in alive if _alive(p)]
        time.sleep(0.05)
    return described


def _alive(proc: psutil.Process) -> bool:
    try:
        return proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False
