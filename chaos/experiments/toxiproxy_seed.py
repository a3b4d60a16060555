"""Make the Toxiproxy server's per-connection decisions follow the experiment's seed.

The embedded server (``chaos.toxiproxy``) takes ``POST /crashcart/seed {"seed": N}``: every
toxicity roll, jitter and slicer cut from then on comes from ``N``, the proxy, the toxic, the
connection's ordinal since the reseed and the stream, so a replay of the same traffic meets
the same faults. A real Toxiproxy has no such endpoint (it answers 404) and its decisions use
Go's auto-seeded global RNG: the journal says so, and a replay then reproduces the schedule
and the workload but not each connection's coin.
"""

from __future__ import annotations

from typing import Any

import httpx

ENDPOINT = "/crashcart/seed"


def reseed(toxiproxy_url: str, seed: int, *, timeout_s: float = 5.0) -> dict[str, Any]:
    """Reseed the server; return what the journal records about it."""
    try:
        answer = httpx.post(f"{toxiproxy_url.rstrip('/')}{ENDPOINT}", json={"seed": seed},
                            timeout=timeout_s)
    except httpx.HTTPError as exc:
        return {"server": "unknown", "seed": seed, "per_connection_reproducible": False,
                "note": f"reseed failed: {type(exc).__name__}: {exc}"}
    if answer.status_code == 200:
        return {"server": "embedded", "seed": seed, "per_connection_reproducible": True}
    return {"server": "real Toxiproxy", "seed": None, "per_connection_reproducible": False,
            "note": f"{ENDPOINT} answered {answer.status_code}: the server's toxic decisions "
                    "(toxicity rolls, jitter, slicer sizes) do not follow the experiment's "
                    "seed and will differ on replay"}
