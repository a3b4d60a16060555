"""Fixtures of the chaos suite: the scratch data stores breaches are planted in."""
from __future__ import annotations

from collections.abc import Iterator

import pytest

from suites.chaos.planted import PlantedWorld, planted_topology


@pytest.fixture(scope="session")
def planted_world() -> Iterator[PlantedWorld]:
    world = PlantedWorld(planted_topology())
    world.create()
    try:
        yield world
    finally:
        world.destroy()


@pytest.fixture
def planted(planted_world: PlantedWorld) -> PlantedWorld:
    """The scratch copy, emptied before the test."""
    planted_world.reset()
    return planted_world
