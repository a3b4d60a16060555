"""Allure results the orchestrator writes itself, for what is not a pytest test.

Why: a preflight that fails, a platform that does not come up, a layer that crashes or leaves
a fault behind must show in the report under its category like any test failure; these are
plain Allure 2 result files (the format allure-pytest writes and Allure 3 reads).
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from pathlib import Path

PASSED, FAILED, BROKEN, SKIPPED = "passed", "failed", "broken", "skipped"


def write_result(results_dir: Path, *, name: str, status: str, message: str = "",
                 layer: str = "run", feature: str = "orchestrator", story: str | None = None,
                 severity: str = "blocker", started: float | None = None,
                 stopped: float | None = None, attachments: dict[str, str] | None = None) -> Path:
    """One result file (and its text attachments); ids are stable per (layer, name)."""
    results_dir.mkdir(parents=True, exist_ok=True)
    now_ms = int(time.time() * 1000)
    full_name = f"crashcart run › {layer} › {name}"
    attached = []
    for title, text in (attachments or {}).items():
        source = f"{uuid.uuid4()}-attachment.txt"
        (results_dir / source).write_text(text, encoding="utf-8")
        attached.append({"name": title, "source": source, "type": "text/plain"})
    result = {
        "uuid": str(uuid.uuid4()),
        "name": name,
        "fullName": full_name,
        "testCaseId": hashlib.md5(full_name.encode()).hexdigest(),
        "historyId": hashlib.md5(full_name.encode()).hexdigest(),
        "status": status,
        "statusDetails": {"message": message} if message else {},
        "stage": "finished",
        "start": int(started * 1000) if started else now_ms,
        "stop": int(stopped * 1000) if stopped else now_ms,
        "labels": [
            {"name": "epic", "value": layer},
            {"name": "feature", "value": feature},
            {"name": "story", "value": story or name},
            {"name": "severity", "value": severity},
            {"name": "framework", "value": "crashcart run"},
        ],
        "attachments": attached,
    }
    path = results_dir / f"{result['uuid']}-result.json"
    path.write_text(json.dumps(result, indent=2), encoding="utf-8")
    return path


def read_results(results_dir: Path) -> list[dict[str, object]]:
    """Every ``*-result.json`` of a results directory (unreadable ones skipped)."""
    found = []
    for path in sorted(results_dir.glob("*-result.json")) if results_dir.is_dir() else []:
        try:
            found.append(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError):
            continue
    return found
