"""How each platform service is started locally: uvicorn with the topology's environment."""

from __future__ import annotations

import os
import sys

from chaos.topology import Topology

#: Longer than nginx's upstream keepalive_timeout (60 s) so the gateway never reuses a
#: connection the service is about to close.
KEEP_ALIVE_S = 75


HTTP_PROTOCOL = "svckit.http_protocol:OneSendHttpToolsProtocol"
"""uvicorn's httptools protocol, sending each response in one write (docs/performance.md);
docker-compose.yml starts the services with the same."""


def service_command(topology: Topology, name: str) -> list[str]:
    spec = topology.service(name)
    return [sys.executable, "-m", "uvicorn", spec.app, "--host", spec.host,
            "--port", str(spec.port), "--timeout-keep-alive", str(KEEP_ALIVE_S),
            "--http", HTTP_PROTOCOL]


def service_environment(topology: Topology, name: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(topology.service_env(name, topology.local_addressing()))
    env["PYTHONUNBUFFERED"] = "1"
    return env
