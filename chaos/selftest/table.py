"""The docs table from self-test result files: ``python -m chaos.selftest.table R.json ...``.

Why generated: the table in docs/selftest.md must be what a run measured, not what
someone remembers; several result files merge (the last one naming a defect wins, so a
re-run after an escape was closed replaces the escape).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from chaos.selftest.catalogue import DEFECTS


def merged(paths: list[Path]) -> dict[str, dict[str, Any]]:
    latest: dict[str, dict[str, Any]] = {}
    for path in paths:
        document = json.loads(path.read_text(encoding="utf-8"))
        for result in document["results"]:
            if result.get("note") == "interrupted" and not result.get("caught_by"):
                continue  # stopped by Ctrl-C: no verdict either way
            latest[result["defect"]] = {**result, "commit": document.get("commit", "?")}
    return latest


def _test(result: dict[str, Any]) -> str:
    failing = result.get("failing_test") or ""
    node = failing.split(" ", 1)[1].split(" - ", 1)[0] if " " in failing else failing
    return f"`{node.replace('suites/', '', 1)}`" if node else "—"


def render(paths: list[Path]) -> str:
    results = merged(paths)
    lines = ["| defect | category | what the patch does | caught by | failing test | "
             "time to detection |", "|---|---|---|---|---|---|"]
    caught = ran = 0
    for defect in DEFECTS:
        result = results.get(defect.id)
        if result is None:
            lines.append(f"| `{defect.id}` | {defect.category} | {defect.description} | "
                         "not run | — | — |")
            continue
        ran += 1
        layer = result.get("caught_by")
        caught += bool(layer)
        seconds = result.get("seconds_to_detection")
        when = f"{seconds / 60:.1f} min" if seconds else "—"
        lines.append(f"| `{defect.id}` | {defect.category} | {defect.description} | "
                     f"{layer or '**escaped**'} | {_test(result)} | {when} |")
    lines.append("")
    lines.append(f"Detection score: **{caught}/{ran}** of the defects run "
                 f"({len(DEFECTS)} in the catalogue).")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = argv if argv is not None else sys.argv[1:]
    if not args:
        print("usage: python -m chaos.selftest.table RESULTS.json [...]", file=sys.stderr)
        return 2
    print(render([Path(a) for a in args]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
