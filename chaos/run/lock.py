"""One ``crashcart run`` per state dir at a time.

Why: two runs against one platform instance would inject faults into each other's tests and
write into the same results. The lock is an ``flock`` on ``<state dir>/run.lock`` (released
by the kernel when the holder dies, so a crashed run never blocks the next one); the file
names the holder so the refusal can say who it is.
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO


class RunLocked(RuntimeError):
    """Another run holds the lock; the message names it."""


@dataclass(slots=True)
class RunLock:
    path: Path
    _file: IO[str] | None = None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(self.path, "a+")  # kept open while the lock is held
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = _describe(handle.read())
            handle.close()
            raise RunLocked(
                f"another `crashcart run` is in progress ({holder}; lock {self.path}); wait "
                "for it to finish or interrupt it, or use another CRASHCART_STATE_DIR for "
                "an isolated instance") from None
        handle.seek(0)
        handle.truncate()
        handle.write(json.dumps({"pid": os.getpid(), "started_at": time.time()}))
        handle.flush()
        self._file = handle

    def release(self) -> None:
        if self._file is not None:
            self._file.seek(0)
            self._file.truncate()
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None

    def __enter__(self) -> RunLock:
        self.acquire()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.release()


def _describe(raw: str) -> str:
    try:
        info = json.loads(raw)
        started = time.strftime("%H:%M:%S", time.localtime(float(info["started_at"])))
        return f"pid {int(info['pid'])}, started {started}"
    except (ValueError, KeyError, TypeError):
        return "holder unknown"
