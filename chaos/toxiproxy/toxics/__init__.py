"""Toxic types, one module each, registered by their Toxiproxy type name."""

from __future__ import annotations

from .bandwidth import BandwidthToxic
from .base import AttributeToxic, CleansUp, Stateful, Stub, Toxic
from .latency import LatencyToxic
from .limit_data import LimitDataToxic
from .noop import NoopToxic
from .reset_peer import ResetPeerToxic
from .slicer import SlicerToxic
from .slow_close import SlowCloseToxic
from .timeout import TimeoutToxic

REGISTRY: dict[str, type[AttributeToxic]] = {
    cls.type_name: cls
    for cls in (
        NoopToxic,
        LatencyToxic,
        BandwidthToxic,
        SlowCloseToxic,
        TimeoutToxic,
        ResetPeerToxic,
        SlicerToxic,
        LimitDataToxic,
    )
}
"""Type name → toxic class. Add a module and list its class here to add a toxic."""

__all__ = ["REGISTRY", "CleansUp", "Stateful", "Stub", "Toxic"]
