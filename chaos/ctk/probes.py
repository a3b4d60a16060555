"""Chaos Toolkit probes: a checkout through the gateway, the invariants, the faults in force."""

from __future__ import annotations

import random
from typing import Any

from chaos.experiments.model import Workload
from chaos.experiments.workload import CheckoutWorkload
from chaos.faults import FaultContext, Ledger
from chaos.invariants import Bounds, CheckContext, Sources, check
from chaos.topology import load_topology


def checkout_succeeds(timeout_s: float = 30.0) -> bool:
    """A fresh buyer's tok_visa checkout reaches PAID within ``timeout_s``."""
    workload = CheckoutWorkload(load_topology(), Workload(buyers=0, products=0),
                                random.Random(0))
    workload.setup()
    return workload.checkout_probe(timeout_s)


def check_invariant(name: str, settle_s: float = 20.0) -> dict[str, Any]:
    """Run one invariant over the whole platform; the verdict with its evidence."""
    topology = load_topology()
    bounds = Bounds(terminal_within_s=settle_s, drain_within_s=settle_s, settle_s=settle_s)
    ctx = CheckContext(topology=topology, sources=Sources(topology), bounds=bounds)
    return check(name, ctx).as_json()


def invariant_holds(name: str, settle_s: float = 20.0) -> bool:
    """True when the invariant finds no breach (use with ``"tolerance": true``)."""
    return bool(check_invariant(name, settle_s)["ok"])


def faults_in_force() -> dict[str, Any]:
    """The ledger's faults and every toxic / disabled proxy on the mesh, right now."""
    ctx = FaultContext.from_environment()
    try:
        proxies = ctx.admin.proxies()
        return {
            "recorded": [r.description for r in Ledger(ctx.state_dir).snapshot()],
            "toxics": sorted(f"{name}/{t['name']}" for name, p in proxies.items()
                             for t in p.get("toxics", [])),
            "disabled": sorted(name for name, p in proxies.items() if not p.get("enabled")),
        }
    finally:
        ctx.close()
