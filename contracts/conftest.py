"""Running ``pytest contracts/<pair>`` directly: the same plugin as the default run."""

from contracts.fixtures import pact_factory, pacts_folder, pytest_runtest_makereport  # noqa: F401
