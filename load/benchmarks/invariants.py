"""Every chaos invariant against the running instance, after a benchmark run.

    python -m load.benchmarks.invariants      # exit 1 if any invariant is breached

A faster platform must still lose nothing: orders complete, terminal states final,
payments match the processor's ledger, stock conserved, the outbox drained.
"""
from __future__ import annotations

import sys

from chaos.invariants import INVARIANTS, CheckContext, Sources, check
from chaos.topology import load_topology


def main() -> int:
    topology = load_topology()
    context = CheckContext(topology=topology, sources=Sources(topology))
    failed = 0
    for name in INVARIANTS:
        verdict = check(name, context)
        failed += not verdict.ok
        print(f"{name}: {'ok' if verdict.ok else 'BREACHED'}"
              + "".join(f"\n  {breach}" for breach in verdict.breaches[:5]))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
