"""Toxiproxy-compatible fault-injection server (asyncio, pure Python) and how to pick a server.

Entry points: ``python -m chaos.toxiproxy`` (cli.py), ``runner.start_in_thread`` /
``runner.start_subprocess`` for tests, ``select.resolve_server`` for the
URL → binary → embedded choice. Behaviour contract: Toxiproxy 2.12.0 (admin API and toxics);
deviations: docs/toxiproxy.md.
"""

from __future__ import annotations

VERSION = "2.12.0"
"""Toxiproxy release whose API and data path this server matches (reported by /version)."""
