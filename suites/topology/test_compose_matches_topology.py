"""docker-compose.yml and the committed compose artifacts must match the topology."""

from __future__ import annotations

import json

import pytest
import yaml

from chaos.backends.compose_files import COMPOSE_FILE, NGINX_CONF, TOXIPROXY_JSON, compose_artifacts
from chaos.backends.local.services import HTTP_PROTOCOL, service_command
from chaos.topology import BROKER, DB, Topology, load_topology


@pytest.fixture(scope="module")
def topology() -> Topology:
    return load_topology(env={})


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text())


def _env(service: dict) -> dict[str, str]:
    env = service.get("environment", {})
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {str(k): str(v) for k, v in env.items()}


LOAD_SERVICES = {"locust-master", "locust-worker"}
"""Load generation (load/locustfile.py), opt-in through the compose profile "load"."""
BROKER_SERVICES = {"pact-broker", "pact-broker-db"}
"""The Pact Broker and its database (crashcart contracts publish), profile "pact-broker"."""


def test_compose_declares_every_component(topology: Topology, compose: dict) -> None:
    expected = {"postgres", "rabbitmq", "toxiproxy", "gateway", *topology.services}
    assert set(compose["services"]) == expected | LOAD_SERVICES | BROKER_SERVICES


def test_pact_broker_is_opt_in_with_its_own_database(compose: dict) -> None:
    broker, database = compose["services"]["pact-broker"], compose["services"]["pact-broker-db"]
    assert broker["profiles"] == database["profiles"] == ["pact-broker"]
    assert broker["image"].startswith("pactfoundation/pact-broker:")
    assert "@pact-broker-db/" in broker["environment"]["PACT_BROKER_DATABASE_URL"]
    assert "pact-broker-db" in broker["depends_on"]


def test_load_services_are_opt_in_and_drive_the_gateway(topology: Topology, compose: dict) -> None:
    master, worker = (compose["services"][name] for name in sorted(LOAD_SERVICES))
    for service in (master, worker):
        assert service["profiles"] == ["load"]
        assert service["image"].startswith("locustio/locust:")
        command = service["command"]
        assert command[command.index("-f") + 1] == "/crashcart/load/locustfile.py"
        assert command[command.index("--host") + 1] == f"http://gateway:{topology.gateway.port}"
    assert "--master" in master["command"] and "8089:8089" in master["ports"]
    command = worker["command"]
    assert "--worker" in command and command[command.index("--master-host") + 1] == "locust-master"


@pytest.mark.parametrize("name", ["user", "product", "order", "payment"])
def test_service_runs_its_app_on_its_port(topology: Topology, compose: dict, name: str) -> None:
    spec = topology.service(name)
    service = compose["services"][name]
    command = service["command"]
    assert command[:2] == ["uvicorn", spec.app]
    assert command[command.index("--port") + 1] == str(spec.port)
    assert f"{spec.port}:{spec.port}" in service["ports"]
    assert service["build"]["dockerfile"] == "platform/docker/Dockerfile"


def _uvicorn_options(command: list[str]) -> dict[str, str]:
    """A uvicorn command's options other than where it listens."""
    options = command[command.index(next(a for a in command if a.startswith("--"))):]
    pairs = dict(zip(options[::2], options[1::2], strict=True))
    return {k: v for k, v in pairs.items() if k not in ("--host", "--port")}


@pytest.mark.parametrize("name", ["user", "product", "order", "payment"])
def test_service_runs_under_the_same_uvicorn_options_as_locally(
        topology: Topology, compose: dict, name: str) -> None:
    local = _uvicorn_options(service_command(topology, name))
    assert local["--http"] == HTTP_PROTOCOL
    assert _uvicorn_options(compose["services"][name]["command"]) == local


@pytest.mark.parametrize("name", ["user", "product", "order", "payment"])
def test_service_env_points_every_dependency_at_its_proxy(
        topology: Topology, compose: dict, name: str) -> None:
    env = _env(compose["services"][name])
    expected = topology.service_env(name, topology.compose_addressing())
    assert env == expected
    # and, stated directly: each dependency goes through toxiproxy on that edge's port
    assert f"@toxiproxy:{topology.edge(name, DB).proxy_port}/" in env["DATABASE_URL"]
    assert f"@toxiproxy:{topology.edge(name, BROKER).proxy_port}/" in env["AMQP_URL"]
    for callee in topology.service(name).calls:
        assert env[f"{callee.upper()}_SERVICE_URL"] == \
            f"http://toxiproxy:{topology.edge(name, callee).proxy_port}"
    assert not any(f"{host}:" in value for value in env.values()
                   for host in ("postgres", "rabbitmq", *topology.services)), \
        "a dependency bypasses the mesh"


def test_toxiproxy_container_uses_official_image_and_mesh_config(
        topology: Topology, compose: dict) -> None:
    service = compose["services"]["toxiproxy"]
    assert service["image"] == "ghcr.io/shopify/toxiproxy:2.12.0"
    assert any(v.startswith("./platform/docker/toxiproxy.json:") for v in service["volumes"])
    assert "-config=/config/toxiproxy.json" in service["command"]
    assert f"-port={topology.toxiproxy.port}" in service["command"]


def test_toxiproxy_json_has_one_proxy_per_edge(topology: Topology) -> None:
    proxies = json.loads(TOXIPROXY_JSON.read_text())
    assert [p["name"] for p in proxies] == [edge.name for edge in topology.edges]
    for proxy, edge in zip(proxies, topology.edges, strict=False):
        assert proxy["listen"] == f"0.0.0.0:{edge.proxy_port}"
        if edge.target == DB:
            assert proxy["upstream"] == "postgres:5432"
        elif edge.target == BROKER:
            assert proxy["upstream"] == "rabbitmq:5672"
        else:
            assert proxy["upstream"] == f"{edge.target}:{topology.service(edge.target).port}"


def test_gateway_uses_njs_nginx_with_generated_config(topology: Topology, compose: dict) -> None:
    gateway = compose["services"]["gateway"]
    assert gateway["image"].startswith("nginx:1.27")
    assert "./platform/docker/nginx.conf:/etc/nginx/nginx.conf:ro" in gateway["volumes"]
    assert f"{topology.gateway.port}:{topology.gateway.port}" in gateway["ports"]
    conf = NGINX_CONF.read_text()
    for name in topology.services:
        assert f"server toxiproxy:{topology.edge('gateway', name).proxy_port};" in conf


@pytest.mark.parametrize("path", [TOXIPROXY_JSON, NGINX_CONF], ids=lambda p: p.name)
def test_committed_artifact_matches_generator(topology: Topology, path) -> None:
    expected = compose_artifacts(topology)[path]
    assert path.read_text() == expected, \
        f"{path} drifted from the topology; run `crashcart generate`"
