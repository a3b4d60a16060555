"""The fault ledger: records survive the process that wrote them; a corrupt file is kept
aside, never silently overwritten. No platform needed."""
from __future__ import annotations

import time
from pathlib import Path

import allure

from chaos.faults import FaultRecord, Ledger

pytestmark = [allure.feature("Chaos fault ledger")]


def _record(n: int) -> FaultRecord:
    now = time.time()
    return FaultRecord(id=f"r{n}", session="s", spec={"kind": "proxy_down", "edges": ["x"]},
                       context={}, description=f"fault {n}", applied_at=now,
                       expires_at=now + 60, owner_pid=1, owner_started=0.0)


def test_records_are_read_back_by_another_ledger_on_the_same_state_dir(tmp_path: Path) -> None:
    with Ledger(tmp_path).locked() as records:
        records.extend([_record(1), _record(2)])
    assert [r.id for r in Ledger(tmp_path).snapshot()] == ["r1", "r2"]
    with Ledger(tmp_path).locked() as records:
        records.remove(records[0])
    assert [r.description for r in Ledger(tmp_path).snapshot()] == ["fault 2"]


def test_a_corrupt_ledger_is_kept_aside(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path)
    ledger.root.mkdir(parents=True)
    ledger.path.write_text("[{not json")
    assert ledger.snapshot() == []
    kept = list(ledger.root.glob("faults.corrupt-*.json"))
    assert len(kept) == 1 and kept[0].read_text() == "[{not json"
