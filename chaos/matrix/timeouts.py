"""The caller's timeout on each edge, read from the topology and the services' settings.

The matrix puts latency just below and well above the timeout the *calling* side applies:
the gateway's upstream read timeout for ``gateway_to_<svc>``, svckit's ``HTTP_TIMEOUT_S``
for a service-to-service call, ``DB_COMMAND_TIMEOUT_S`` for a database, and the AMQP
heartbeat for the broker link. A service's own ``env`` in the topology overrides the
settings' default, exactly as it does when the service starts.
"""

from __future__ import annotations

from chaos.topology import BROKER, DB, GATEWAY, EdgeSpec, Topology

SETTING_OF_TARGET = {DB: "db_command_timeout_s", BROKER: "broker_heartbeat_s"}
SERVICE_CALL_SETTING = "http_timeout_s"


def _service_setting(topology: Topology, service: str, field: str) -> float:
    from svckit.settings import ServiceSettings  # the platform's own defaults

    override = topology.service(service).env.get(field.upper())
    if override is not None:
        return float(override)
    default = ServiceSettings.model_fields[field].default
    return float(default)


def caller_timeout_s(topology: Topology, edge: EdgeSpec) -> float:
    """Seconds the component at ``edge.source`` waits on ``edge.target`` before giving up."""
    if edge.source == GATEWAY:
        return float(topology.gateway.read_timeout_s)
    field = SETTING_OF_TARGET.get(edge.target, SERVICE_CALL_SETTING)
    return _service_setting(topology, edge.source, field)
