"""Chaos Toolkit extension: Crashcart's fault and invariant units as CTK activities.

Use from a ``chaos run`` experiment with ``"provider": {"type": "python", "module":
"chaos.ctk.actions" | "chaos.ctk.probes", "func": ..., "arguments": {...}}``; see
``chaos/experiments/examples/ctk-order-db-latency.json``. The platform is found from the
environment (``CRASHCART_*``, ``CRASHCART_STATE_DIR``) exactly as ``crashcart`` finds it.
"""

from __future__ import annotations

__all__ = ["actions", "probes"]
