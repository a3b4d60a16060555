"""Fixtures of the report's own tests: the planted run (built once) and a server for a
report directory (the Allure 3 app loads its data with fetch, which file:// URLs refuse)."""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from suites.report.throwaway import PlantedRun, run_planted


@pytest.fixture(scope="session")
def planted(tmp_path_factory: pytest.TempPathFactory) -> PlantedRun:
    run = run_planted(tmp_path_factory.mktemp("planted"))
    assert run.outcome.built, f"the planted report was not built:\n{run.outcome.output}"
    return run


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


def serve_directory(directory: Path) -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0),
                                 functools.partial(_Quiet, directory=str(directory)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.fixture(scope="session")
def planted_report_url(planted: PlantedRun) -> Iterator[str]:
    yield from serve_directory(planted.paths.report)
