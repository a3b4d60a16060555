"""Fixtures for svckit's unit tests: a throw-away PostgreSQL database on the local server."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator

import pytest

from suites.helpers.platform_db import drop_database

PG_SERVER = os.environ.get("CRASHCART_UNIT_PG", "postgresql://postgres@127.0.0.1:5432")


@pytest.fixture
def scratch_database() -> Iterator[str]:
    """The DSN of a database that does not exist yet; dropped after the test."""
    name = f"crashcart_unit_{uuid.uuid4().hex[:10]}"
    yield f"{PG_SERVER}/{name}"
    asyncio.run(drop_database(PG_SERVER, name))
