"""Running ``pytest contracts/<pair>`` directly: the same plugin as the default run."""

from contracts.fixtures import (  # noqa: F401
    pact_factory,
    pacts_folder,
    pytest_runtest_makereport,
    saga_dbs,
)
