"""Process-group helpers: spawn detached, signal, stop with TERM → KILL, check liveness."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import psutil

from chaos.topology import REPO_ROOT


def spawn(command: Sequence[str], *, log_path: Path, env: Mapping[str, str] | None = None,
          cwd: Path = REPO_ROOT) -> subprocess.Popen[bytes]:
    """Start ``command`` in its own session (so its own process group), logging to a file.

    The own group lets a later process stop it and all its children with one signal, and
    keeps Ctrl-C at the terminal from reaching it.
    """
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "ab", buffering=0) as log:
        log.write(f"\n==== {time.strftime('%Y-%m-%dT%H:%M:%S')} start: "
                  f"{' '.join(command)}\n".encode())
        return subprocess.Popen(
            list(command), stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            env=dict(env) if env is not None else None, cwd=str(cwd), start_new_session=True,
        )


def create_time(pid: int) -> float:
    try:
        return psutil.Process(pid).create_time()
    except psutil.Error:
        return 0.0


def is_alive(pid: int, started: float | None = None) -> bool:
    """True when ``pid`` runs and is the same process (same create time), not a zombie."""
    try:
        proc = psutil.Process(pid)
        if started and abs(proc.create_time() - started) > 0.5:
            return False
        return proc.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def is_stopped(pid: int) -> bool:
    """True when the process is paused (SIGSTOP)."""
    try:
        return psutil.Process(pid).status() == psutil.STATUS_STOPPED
    except psutil.Error:
        return False


def signal_group(pid: int, sig: signal.Signals) -> bool:
    """Send ``sig`` to the process group led by ``pid``; False if it is gone."""
    try:
        os.killpg(pid, sig)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return False


def _group_members(pgid: int) -> list[psutil.Process]:
    members = []
    for proc in psutil.process_iter(["pid"]):
        try:
            if os.getpgid(proc.pid) == pgid and proc.status() != psutil.STATUS_ZOMBIE:
                members.append(proc)
        except (ProcessLookupError, psutil.Error, OSError):
            continue
    return members


def reap(pid: int) -> None:
    """Collect our own exited children so they do not linger as zombies."""
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


def stop_group(pid: int, *, started: float | None = None, timeout: float = 10.0) -> bool:
    """TERM the group, wait up to ``timeout``, KILL stragglers. True if it had been running."""
    if not is_alive(pid, started) and not _group_members(pid):
        reap(pid)
        return False
    signal_group(pid, signal.SIGTERM)
    signal_group(pid, signal.SIGCONT)  # a paused group cannot act on TERM
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        reap(pid)
        if not _group_members(pid):
            return True
        time.sleep(0.05)
    signal_group(pid, signal.SIGKILL)
    kill_deadline = time.monotonic() + 5.0
    while time.monotonic() < kill_deadline:
        reap(pid)
        if not _group_members(pid):
            break
        time.sleep(0.05)
    return True


def tail(path: Path | str, lines: int = 30) -> str:
    """The last ``lines`` lines of a log file ('' if it does not exist)."""
    try:
        with open(path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            handle.seek(max(0, size - 64 * 1024))
            text = handle.read().decode(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])
