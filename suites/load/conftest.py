"""Load suite fixtures. Importing ``load`` first keeps Locust from gevent-patching the pytest
process (see ``load/__init__``): the test modules here import Locust directly."""

from __future__ import annotations

import load  # noqa: F401  (must precede every Locust import in this process)
