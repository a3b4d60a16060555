"""Run a matrix on several platform instances at once, one shard of the cells on each.

Cells stay independent and their breaches attributable: each instance has its own
processes, databases, vhost and Toxiproxy, and runs its shard one cell at a time. Extra
instances are derived from the current one (``CRASHCART_PORT_OFFSET`` given per instance,
state dir / database suffix / vhost with ``-w<k>`` / ``_w<k>`` appended), brought up
before and down after, also on Ctrl-C. Shards are balanced by estimated wall time.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chaos.topology import REPO_ROOT

Progress = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class Instance:
    index: int
    env: dict[str, str]

    @property
    def label(self) -> str:
        return f"w{self.index}"


def instances(base_env: dict[str, str], extra_offsets: list[int]) -> list[Instance]:
    """The current instance (index 0) and one derived instance per extra port offset."""
    found = [Instance(0, dict(base_env))]
    state = base_env.get("CRASHCART_STATE_DIR", "/tmp/crashcart")
    suffix = base_env.get("CRASHCART_DATABASE_SUFFIX", "")
    vhost = base_env.get("CRASHCART_RABBITMQ_VHOST", "crashcart")
    for index, offset in enumerate(extra_offsets, start=1):
        found.append(Instance(index, {
            **base_env, "CRASHCART_PORT_OFFSET": str(offset),
            "CRASHCART_STATE_DIR": f"{state}-w{index}",
            "CRASHCART_DATABASE_SUFFIX": f"{suffix}_w{index}",
            "CRASHCART_RABBITMQ_VHOST": f"{vhost}_w{index}"}))
    return found


def _crashcart(*args: str) -> list[str]:
    return [sys.executable, "-m", "chaos.cli", *args]


def _vhost(name: str) -> None:
    """The instance's vhost (the services do not create it); already there is fine."""
    ctl = shutil.which("rabbitmqctl") or "rabbitmqctl"
    subprocess.run([ctl, "add_vhost", name], capture_output=True, check=False, timeout=60)
    subprocess.run([ctl, "set_permissions", "-p", name, "guest", ".*", ".*", ".*"],
                   capture_output=True, check=True, timeout=60)


def bring_up(instance: Instance, progress: Progress) -> None:
    _vhost(instance.env["CRASHCART_RABBITMQ_VHOST"])
    progress(f"[{instance.label}] crashcart up (offset {instance.env['CRASHCART_PORT_OFFSET']})")
    subprocess.run(_crashcart("up"), env=instance.env, cwd=REPO_ROOT, check=True,
                   capture_output=True, timeout=300)


def bring_down(instance: Instance, progress: Progress) -> None:
    progress(f"[{instance.label}] crashcart down")
    subprocess.run(_crashcart("down"), env=instance.env, cwd=REPO_ROOT, check=False,
                   capture_output=True, timeout=300)


def run_shards(shard_args: list[str], pool: list[Instance], out_dir: Path,
               progress: Progress) -> tuple[list[dict[str, Any]], bool]:
    """Start one ``crashcart chaos matrix --shard k/N`` per instance, stream their progress,
    wait; on Ctrl-C each gets SIGTERM (it heals and writes its partial result). Returns
    the parts' documents (a part that wrote nothing is missing) and whether interrupted."""
    procs: list[tuple[Instance, subprocess.Popen[str], Path]] = []
    for instance in pool:
        part = out_dir / f"part-{instance.label}.json"
        command = _crashcart("chaos", "matrix", *shard_args,
                             "--shard", f"{instance.index}/{len(pool)}", "--json", str(part))
        proc = subprocess.Popen(command, env={**instance.env, "PYTHONUNBUFFERED": "1"},
                                cwd=REPO_ROOT, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True, start_new_session=True)
        procs.append((instance, proc, part))
    pumps = [threading.Thread(target=_pump, args=(instance, proc, progress), daemon=True)
             for instance, proc, _ in procs]
    for pump in pumps:
        pump.start()
    interrupted = False
    try:
        for _, proc, _ in procs:
            proc.wait()
    except KeyboardInterrupt:
        interrupted = True
        for _, proc, _ in procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for _, proc, _ in procs:
            try:
                proc.wait(timeout=120)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
    for pump in pumps:
        pump.join(timeout=5)
    parts = [json.loads(part.read_text()) for _, _, part in procs if part.exists()]
    return parts, interrupted


def _pump(instance: Instance, proc: subprocess.Popen[str], progress: Progress) -> None:
    """A shard's per-cell lines (start, outcome) go to the terminal, tagged with its label."""
    assert proc.stdout is not None
    for line in proc.stdout:
        text = line.rstrip("\n")
        if text.startswith("[") or text.startswith("  ") and " seed " in text:
            progress(f"[{instance.label}] {text.strip()}")
