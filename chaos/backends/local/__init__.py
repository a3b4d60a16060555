"""Local backend: the platform as processes on this machine (see backend.py)."""

from __future__ import annotations

from chaos.backends.local.backend import (
    ComponentStatus,
    DownReport,
    LocalBackend,
    PlatformHandle,
)
from chaos.backends.local.errors import ComponentFailed, PlatformError, PreflightError
from chaos.backends.local.state import default_state_dir

__all__ = ["ComponentFailed", "ComponentStatus", "DownReport", "LocalBackend", "PlatformError",
           "PlatformHandle", "PreflightError", "default_state_dir"]
