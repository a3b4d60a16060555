"""Load on the platform through its gateway: Locust journeys (``journeys``), load shapes
(``shapes``), SLO gates (``gates``, default ``slo.toml``), headless runs as a library
(``engine``), load under faults (``under_fault``) and benchmarks (``benchmarks``);
``locustfile.py`` is the entry point of the ``locust`` command and its web UI.

Importing this package imports Locust with ``LOCUST_SKIP_MONKEY_PATCH=1`` (then restores
the variable, so child processes such as a ``locust`` command patch as usual): Locust would
otherwise gevent-patch threading and sockets of the whole process (pytest, the CLI) on
import. The journeys need no patching: FastHttpUser's geventhttpclient is gevent-native.
The ``locust`` command imports Locust first and patches as usual.
"""

from __future__ import annotations

import os as _os
import sys as _sys

if "locust" not in _sys.modules:
    _previous = _os.environ.get("LOCUST_SKIP_MONKEY_PATCH")
    _os.environ["LOCUST_SKIP_MONKEY_PATCH"] = "1"
    try:
        import locust  # noqa: F401
    finally:
        if _previous is None:
            del _os.environ["LOCUST_SKIP_MONKEY_PATCH"]
        else:
            _os.environ["LOCUST_SKIP_MONKEY_PATCH"] = _previous
