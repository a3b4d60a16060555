"""A controller's fault session: faults applied with a TTL, watched by a watchdog process.

Usage::

    with FaultSession(FaultContext.from_environment()) as faults:
        active = faults.inject(Latency(edges=("payment_to_db",), latency_ms=300), ttl_s=30)
        ...
        faults.remove(active)          # or leave it: closing the session undoes it

The record goes to the ledger before the fault is applied; ``remove`` undoes and drops it
(a no-op when the watchdog already healed it). Closing the session (also on an exception
or Ctrl-C) undoes everything the session still holds and stops its watchdog.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from types import TracebackType
from typing import Any

from chaos.backends.local import procs
from chaos.faults.base import FaultContext, to_spec
from chaos.faults.ledger import FaultRecord, Ledger, undo_record
from chaos.topology import REPO_ROOT

DEFAULT_TTL_S = 60.0


class FaultSession:
    def __init__(self, ctx: FaultContext, *, watchdog: bool = True,
                 default_ttl_s: float = DEFAULT_TTL_S, poll_s: float = 0.25) -> None:
        self.ctx = ctx
        self.ledger = Ledger(ctx.state_dir)
        self.id = uuid.uuid4().hex[:10]
        self.default_ttl_s = default_ttl_s
        self.poll_s = poll_s
        self._want_watchdog = watchdog
        self.watchdog: subprocess.Popen[bytes] | None = None

    # ---- lifecycle -----------------------------------------------------------------------
    def __enter__(self) -> FaultSession:
        self.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def start(self) -> None:
        if self._want_watchdog and self.watchdog is None:
            self.watchdog = self._spawn_watchdog()

    def close(self) -> None:
        try:
            self.heal_all()
        finally:
            self._stop_watchdog()
            self.ctx.close()

    # ---- faults --------------------------------------------------------------------------
    def inject(self, fault: Any, ttl_s: float | None = None) -> FaultRecord:
        """Record, then apply ``fault``; it is undone at the latest ``ttl_s`` from now."""
        ttl = self.default_ttl_s if ttl_s is None else float(ttl_s)
        now = time.time()
        me = os.getpid()
        record = FaultRecord(id=uuid.uuid4().hex[:12], session=self.id, spec=to_spec(fault),
                             context=self.ctx.record(), description=fault.describe(),
                             applied_at=now, expires_at=now + ttl, owner_pid=me,
                             owner_started=procs.create_time(me))
        with self.ledger.locked() as records:
            records.append(record)
        try:
            fault.apply(self.ctx)
        except BaseException:
            self.remove(record)
            raise
        return record

    def remove(self, record: FaultRecord) -> bool:
        """Undo and drop ``record``; False when it was gone already (healed by the watchdog)."""
        with self.ledger.locked() as records:
            mine = next((r for r in records if r.id == record.id), None)
            if mine is None:
                return False
            undo_record(mine)
            records.remove(mine)
        return True

    def active(self) -> list[FaultRecord]:
        return [r for r in self.ledger.snapshot() if r.session == self.id]

    def heal_all(self) -> list[FaultRecord]:
        """Undo everything this session still holds (each undo tried even if one fails)."""
        healed, errors = [], []
        for record in reversed(self.active()):
            try:
                if self.remove(record):
                    healed.append(record)
            except Exception as exc:
                errors.append(f"{record.description}: {exc!r}")
        if errors:
            raise RuntimeError("could not undo: " + "; ".join(errors))
        return healed

    # ---- watchdog ------------------------------------------------------------------------
    def _spawn_watchdog(self) -> subprocess.Popen[bytes]:
        self.ledger.root.mkdir(parents=True, exist_ok=True)
        ready = self.ledger.root / f"watchdog-{self.id}.ready"
        ready.unlink(missing_ok=True)
        me = os.getpid()
        command = [sys.executable, "-m", "chaos.faults.watchdog",
                   "--state-dir", str(self.ctx.state_dir), "--owner-pid", str(me),
                   "--owner-started", repr(procs.create_time(me)),
                   "--poll-s", str(self.poll_s), "--ready-file", str(ready)]
        log = open(self.ledger.root / "watchdog.log", "ab")
        try:
            proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                    cwd=str(REPO_ROOT), start_new_session=True,
                                    env={**os.environ, "PYTHONPATH": _pythonpath()})
        finally:
            log.close()
        deadline = time.monotonic() + 15.0
        while not ready.exists():
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise RuntimeError(f"fault watchdog did not start (see {log.name})")
            time.sleep(0.02)
        ready.unlink(missing_ok=True)
        return proc

    def _stop_watchdog(self) -> None:
        proc, self.watchdog = self.watchdog, None
        if proc is None:
            return
        proc.terminate()
        try:
            proc.wait(timeout=15.0)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5.0)


def _pythonpath() -> str:
    parts = [str(REPO_ROOT), str(REPO_ROOT / "platform")]
    current = os.environ.get("PYTHONPATH")
    return os.pathsep.join(parts + ([current] if current else []))
