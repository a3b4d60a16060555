"""Load on the platform through its gateway: Locust journeys (``journeys``), load shapes
(``shapes``), SLO gates (``gates``, default ``slo.toml``), headless runs as a library
(``engine``), load under faults (``under_fault``) and benchmarks (``benchmarks``);
``locustfile.py`` is the entry point of the ``locust`` command and its web UI.

Importing this package before Locust sets ``LOCUST_SKIP_MONKEY_PATCH=1``: Locust would
otherwise gevent-patch threading and sockets of the whole process (pytest, the CLI) on
import. The journeys need no patching: FastHttpUser's geventhttpclient is gevent-native.
The ``locust`` command imports Locust first and patches as usual.
"""

from __future__ import annotations

import os as _os
import sys as _sys

if "locust" not in _sys.modules:
    _os.environ.setdefault("LOCUST_SKIP_MONKEY_PATCH", "1")
