"""The watchdog: a separate process that undoes faults when their TTL passes or their
controller dies, so no fault outlives the run that set it.

Started by :class:`chaos.faults.session.FaultSession` (``python -m chaos.faults.watchdog``),
in its own session (a Ctrl-C or SIGKILL of the controller's group does not reach it). It
polls the ledger: a record past ``expires_at``, or whose owner process is gone, is undone
and dropped. It exits once its owner is gone and nothing of it is left, or on SIGTERM
(after undoing what its owner still holds).
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from chaos.backends.local import procs
from chaos.faults.ledger import FaultRecord, Ledger, undo_record

log = logging.getLogger("chaos.faults.watchdog")
MAX_HEAL_ATTEMPTS = 20


def owner_alive(record: FaultRecord) -> bool:
    return procs.is_alive(record.owner_pid, record.owner_started or None)


def sweep(ledger: Ledger, *, now: float, force_owner: int | None = None) -> list[FaultRecord]:
    """Undo and drop every record that expired or lost its owner (or belongs to ``force_owner``)."""
    healed = []
    with ledger.locked() as records:
        for record in list(records):
            due = (now >= record.expires_at or not owner_alive(record)
                   or record.owner_pid == force_owner)
            if not due:
                continue
            try:
                undo_record(record)
            except Exception as exc:  # keep it; retry on the next pass
                record.heal_attempts += 1
                record.last_error = repr(exc)[:300]
                log.warning("undo of %s failed (%s), attempt %d", record.description, exc,
                            record.heal_attempts)
                if record.heal_attempts < MAX_HEAL_ATTEMPTS:
                    continue
                log.error("giving up on %s", record.description)
            records.remove(record)
            healed.append(record)
            log.info("healed %s (%s)", record.description,
                     "expired" if now >= record.expires_at else "owner gone")
    return healed


def run(state_dir: Path, owner_pid: int, owner_started: float, poll_s: float) -> int:
    ledger = Ledger(state_dir)
    stopping = False

    def on_term(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    while True:
        owner_gone = not procs.is_alive(owner_pid, owner_started or None)
        sweep(ledger, now=time.time(), force_owner=owner_pid if (stopping or owner_gone) else None)
        if stopping or owner_gone:
            left = [r for r in ledger.snapshot() if r.owner_pid == owner_pid]
            if not left:
                log.info("owner %d %s; nothing left; exiting", owner_pid,
                         "asked us to stop" if stopping else "is gone")
                return 0
        time.sleep(poll_s)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m chaos.faults.watchdog")
    parser.add_argument("--state-dir", type=Path, required=True)
    parser.add_argument("--owner-pid", type=int, required=True)
    parser.add_argument("--owner-started", type=float, default=0.0)
    parser.add_argument("--poll-s", type=float, default=0.25)
    parser.add_argument("--ready-file", type=Path, default=None)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s watchdog[%(process)d] %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    if args.ready_file is not None:
        args.ready_file.write_text(str(os.getpid()))
    return run(args.state_dir, args.owner_pid, args.owner_started, args.poll_s)


if __name__ == "__main__":
    raise SystemExit(main())
