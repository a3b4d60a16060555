"""The checkout-floor benchmark measures real round trips (PostgreSQL, RabbitMQ, a uvicorn
server, each through the embedded Toxiproxy), adds them up as its docstring says, and leaves
nothing behind: no process, no scratch database, no queue."""
from __future__ import annotations

import asyncio

import asyncpg
import psutil
import pytest

from chaos.topology import load_topology
from load.benchmarks import checkout_floor
from load.benchmarks.checkout_floor import CHECKOUT, Measured, floor_table


def test_the_floor_is_the_units_weighted_by_a_checkouts_counts() -> None:
    # 1 ms of machine CPU per unit of every kind: the floor is the number of units
    rounds = [{kind: Measured(10, 0.010, {"client": 0.005}) for kind in CHECKOUT}]
    table = floor_table(rounds)
    assert f"**a checkout's floor** | | **{sum(CHECKOUT.values()):.1f}**" in table
    assert "at most 125 checkouts/s" in table  # 2,000 CPU ms per second / 16 ms


async def _floor_databases() -> list[str]:
    pg = load_topology().postgres
    connection = await asyncpg.connect(host=pg.host, port=pg.port, user=pg.user,
                                       password=pg.password or None, database="postgres")
    try:
        rows = await connection.fetch(
            "SELECT datname FROM pg_database WHERE datname LIKE 'crashcart_floor_%'")
    finally:
        await connection.close()
    return [row["datname"] for row in rows]


def test_a_short_run_measures_every_kind_and_cleans_up(capsys: pytest.CaptureFixture[str]) -> None:
    children_before = {p.pid for p in psutil.Process().children(recursive=True)}
    checkout_floor.main(["--units", "300", "--rounds", "1", "--concurrency", "4"])
    out = capsys.readouterr().out
    for kind in CHECKOUT:
        row = next(line for line in out.splitlines() if line.startswith(f"| {kind} |"))
        per_unit = float(row.split("|")[3])
        assert 0 < per_unit < 50, f"{kind}: {per_unit} ms of CPU per unit"
    assert "Toxiproxy" in out and "PostgreSQL backends" in out and "RabbitMQ" in out
    assert "a checkout's floor" in out
    assert {p.pid for p in psutil.Process().children(recursive=True)} <= children_before
    assert asyncio.run(_floor_databases()) == []
