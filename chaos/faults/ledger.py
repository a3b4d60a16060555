"""The fault ledger: every fault in force, in a file under the state dir.

Why a file: the watchdog (another process) and ``crashcart heal`` (any later process) must
see what a controller applied, also after the controller died. A fault is recorded
*before* it is applied, so a crash between the two still leaves a record to undo. Every
read-modify-write holds an exclusive ``flock``.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

LEDGER_DIR = "chaos"


def undo_record(record: FaultRecord) -> None:
    """Undo one recorded fault in the context it was applied in."""
    from chaos.faults.base import FaultContext, fault_from_spec

    ctx = FaultContext.from_record(record.context)
    try:
        fault_from_spec(record.spec).undo(ctx)
    finally:
        ctx.close()


@dataclass(slots=True)
class FaultRecord:
    id: str
    session: str
    spec: dict[str, Any]
    context: dict[str, Any]
    description: str
    applied_at: float
    """Wall-clock time (``time.time()``) when it was recorded, just before it was applied."""
    expires_at: float
    """Wall-clock time after which the watchdog undoes it whatever happens."""
    owner_pid: int
    owner_started: float
    heal_attempts: int = 0
    last_error: str = ""


@dataclass(slots=True)
class Ledger:
    state_dir: Path
    records: list[FaultRecord] = field(default_factory=list)

    @property
    def root(self) -> Path:
        return Path(self.state_dir) / LEDGER_DIR

    @property
    def path(self) -> Path:
        return self.root / "faults.json"

    @contextlib.contextmanager
    def locked(self) -> Iterator[list[FaultRecord]]:
        """Hold the lock, yield the records (mutable), write them back on exit."""
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / "faults.lock", "a+") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                records = self._read()
                yield records
                self._write(records)
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def snapshot(self) -> list[FaultRecord]:
        with self.locked() as records:
            return list(records)

    def _read(self) -> list[FaultRecord]:
        try:
            raw = json.loads(self.path.read_text())
        except ValueError:
            self.path.replace(self.path.with_suffix(f".corrupt-{int(time.time())}.json"))
            return []
        except FileNotFoundError:
            return []
        try:
            return [FaultRecord(**item) for item in raw]
        except TypeError:
            # Unreadable: keep it aside for a human rather than overwrite it with [].
            self.path.replace(self.path.with_suffix(f".corrupt-{int(time.time())}.json"))
            return []

    def _write(self, records: list[FaultRecord]) -> None:
        tmp = self.path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps([asdict(r) for r in records], indent=2))
        tmp.replace(self.path)
