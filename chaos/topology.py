"""Typed loader of ``platform/topology.toml`` and everything derived from it.

The topology is the single declaration of the platform: components, ports, databases and
every edge. Both backends (local processes and docker compose), the gateway config, the
toxiproxy mesh and the test fixtures derive their addresses from here, so nothing else
hard-codes a port. This module is the harness core: pure data, no process code.

Overrides (environment):

* ``CRASHCART_TOPOLOGY`` — path of another topology file.
* ``CRASHCART_PORT_OFFSET`` — added to every port the platform itself listens on (gateway,
  toxiproxy, services, proxies) so a second instance can run beside the first.
* ``CRASHCART_<SECTION>_<KEY>`` for the scalar keys of ``gateway``, ``toxiproxy``,
  ``postgres``, ``rabbitmq`` and ``settings`` (e.g. ``CRASHCART_GATEWAY_PORT=9080``,
  ``CRASHCART_POSTGRES_PORT=5433``); applied after the offset.
* ``CRASHCART_DATABASE_SUFFIX`` — appended to every service's database name.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import MISSING, dataclass, field, replace
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_TOPOLOGY_PATH = REPO_ROOT / "platform" / "topology.toml"

GATEWAY = "gateway"
DB = "db"
BROKER = "broker"
_RESERVED = {GATEWAY, DB, BROKER, "toxiproxy", "postgres", "rabbitmq"}
_NAME_RE = re.compile(r"^[a-z][a-z0-9]*$")
_ROUTE_RE = re.compile(r"^(/[A-Za-z0-9._~-]+)+$")
_OVERRIDABLE_SECTIONS = ("gateway", "toxiproxy", "postgres", "rabbitmq", "settings")


class TopologyError(ValueError):
    """The topology file is missing, malformed or inconsistent."""


@dataclass(frozen=True, slots=True)
class GatewaySpec:
    host: str
    port: int
    rate_limit_rps: int
    rate_limit_burst: int
    connect_timeout_s: float
    read_timeout_s: float
    client_max_body_size: str = "1m"
    keepalive: int = 32

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"


@dataclass(frozen=True, slots=True)
class ToxiproxySpec:
    host: str
    port: int

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"


@dataclass(frozen=True, slots=True)
class PostgresSpec:
    host: str
    port: int
    user: str
    password: str = ""

    def url(self, database: str, *, host: str, port: int) -> str:
        """A libpq URL for ``database`` reached at ``host:port`` (usually a proxy)."""
        auth = self.user if not self.password else f"{self.user}:{self.password}"
        return f"postgresql://{auth}@{host}:{port}/{database}"


@dataclass(frozen=True, slots=True)
class RabbitSpec:
    host: str
    port: int
    user: str
    password: str
    vhost: str = "/"
    exchange: str = "crashcart.events"

    def url(self, *, host: str, port: int) -> str:
        """An AMQP URL reached at ``host:port``; the default vhost ``/`` is the empty path."""
        vhost = "" if self.vhost == "/" else self.vhost.replace("/", "%2F")
        return f"amqp://{self.user}:{self.password}@{host}:{port}/{vhost}"


@dataclass(frozen=True, slots=True)
class Settings:
    """Configuration shared by every service (handed over as environment)."""

    jwt_secret: str
    admin_email: str
    admin_password: str
    log_level: str = "INFO"


@dataclass(frozen=True, slots=True)
class ServiceSpec:
    name: str
    port: int
    database: str
    routes: tuple[str, ...] = ()
    calls: tuple[str, ...] = ()
    host: str = "127.0.0.1"
    env: Mapping[str, str] = field(default_factory=dict)

    @property
    def package(self) -> str:
        return f"{self.name}_service"

    @property
    def app(self) -> str:
        """The ASGI application path handed to uvicorn."""
        return f"{self.package}.main:app"

    @property
    def url(self) -> str:
        """Direct URL (bypassing gateway and proxies)."""
        return f"http://{self.host}:{self.port}"


@dataclass(frozen=True, slots=True)
class EdgeSpec:
    """One link of the mesh; the component at ``source`` talks to ``target`` via its proxy."""

    source: str
    target: str
    proxy_port: int

    @property
    def name(self) -> str:
        return f"{self.source}_to_{self.target}"


@dataclass(frozen=True, slots=True)
class ProxySpec:
    """A Toxiproxy proxy as the admin API (``POST /populate``) expects it."""

    name: str
    listen: str
    upstream: str
    enabled: bool = True

    def as_json(self) -> dict[str, Any]:
        return {"name": self.name, "listen": self.listen, "upstream": self.upstream,
                "enabled": self.enabled}


@dataclass(frozen=True, slots=True)
class Addressing:
    """How components find each other in one backend.

    Locally everything is ``127.0.0.1``; in compose each component is a container reached by
    its service name, and the toxiproxy container listens on all interfaces.
    """

    proxy_listen_host: str
    proxy_host: str
    service_hosts: Mapping[str, str]
    service_bind_host: str
    postgres: tuple[str, int]
    rabbitmq: tuple[str, int]


@dataclass(frozen=True, slots=True)
class Topology:
    gateway: GatewaySpec
    toxiproxy: ToxiproxySpec
    postgres: PostgresSpec
    rabbitmq: RabbitSpec
    settings: Settings
    services: Mapping[str, ServiceSpec]
    edges: tuple[EdgeSpec, ...]
    source: Path = DEFAULT_TOPOLOGY_PATH

    # ---- lookups -------------------------------------------------------------------------
    def service(self, name: str) -> ServiceSpec:
        try:
            return self.services[name]
        except KeyError:
            known = ", ".join(self.services)
            raise KeyError(f"unknown service {name!r} (known: {known})") from None

    def edge(self, source: str, target: str) -> EdgeSpec:
        for edge in self.edges:
            if edge.source == source and edge.target == target:
                return edge
        raise KeyError(f"no edge {source}_to_{target} in {self.source}")

    def proxy_name(self, source: str, target: str) -> str:
        return self.edge(source, target).name

    @property
    def proxy_names(self) -> tuple[str, ...]:
        return tuple(edge.name for edge in self.edges)

    @property
    def gateway_url(self) -> str:
        return self.gateway.url

    @property
    def toxiproxy_url(self) -> str:
        return self.toxiproxy.url

    @property
    def service_urls(self) -> dict[str, str]:
        """Direct URLs of every service, bypassing the gateway and the mesh."""
        return {name: spec.url for name, spec in self.services.items()}

    def listening_ports(self) -> dict[str, int]:
        """Every port the platform itself listens on locally, keyed by component name."""
        ports = {GATEWAY: self.gateway.port, "toxiproxy": self.toxiproxy.port}
        ports.update({name: spec.port for name, spec in self.services.items()})
        ports.update({edge.name: edge.proxy_port for edge in self.edges})
        return ports

    # ---- derived wiring ------------------------------------------------------------------
    def local_addressing(self) -> Addressing:
        return Addressing(
            proxy_listen_host=self.toxiproxy.host,
            proxy_host=self.toxiproxy.host,
            service_hosts={name: spec.host for name, spec in self.services.items()},
            service_bind_host="127.0.0.1",
            postgres=(self.postgres.host, self.postgres.port),
            rabbitmq=(self.rabbitmq.host, self.rabbitmq.port),
        )

    def compose_addressing(self) -> Addressing:
        return Addressing(
            proxy_listen_host="0.0.0.0",
            proxy_host="toxiproxy",
            service_hosts={name: name for name in self.services},
            service_bind_host="0.0.0.0",
            postgres=("postgres", 5432),
            rabbitmq=("rabbitmq", 5672),
        )

    def upstream_of(self, edge: EdgeSpec, addressing: Addressing) -> tuple[str, int]:
        if edge.target == DB:
            return addressing.postgres
        if edge.target == BROKER:
            return addressing.rabbitmq
        return addressing.service_hosts[edge.target], self.services[edge.target].port

    def proxies(self, addressing: Addressing | None = None) -> list[ProxySpec]:
        """The mesh: one proxy per edge, listening on its port, forwarding to the target."""
        addressing = addressing or self.local_addressing()
        result = []
        for edge in self.edges:
            host, port = self.upstream_of(edge, addressing)
            result.append(ProxySpec(
                name=edge.name,
                listen=f"{addressing.proxy_listen_host}:{edge.proxy_port}",
                upstream=f"{host}:{port}",
            ))
        return result

    def toxiproxy_config(self, addressing: Addressing | None = None) -> list[dict[str, Any]]:
        """The JSON array for ``POST /populate`` or ``toxiproxy-server -config``."""
        return [proxy.as_json() for proxy in self.proxies(addressing)]

    def service_env(self, name: str, addressing: Addressing | None = None) -> dict[str, str]:
        """The environment of one service; every dependency points at that edge's proxy."""
        addressing = addressing or self.local_addressing()
        spec = self.service(name)
        via = addressing.proxy_host
        env = {
            "SERVICE_NAME": name,
            "DATABASE_URL": self.postgres.url(spec.database, host=via,
                                              port=self.edge(name, DB).proxy_port),
            "AMQP_URL": self.rabbitmq.url(host=via, port=self.edge(name, BROKER).proxy_port),
            "EVENTS_EXCHANGE": self.rabbitmq.exchange,
            "JWT_SECRET": self.settings.jwt_secret,
            "LOG_LEVEL": self.settings.log_level,
        }
        for callee in spec.calls:
            env[f"{callee.upper()}_SERVICE_URL"] = (
                f"http://{via}:{self.edge(name, callee).proxy_port}")
        if name == "user":
            env["ADMIN_EMAIL"] = self.settings.admin_email
            env["ADMIN_PASSWORD"] = self.settings.admin_password
        env.update(spec.env)
        return env

    def gateway_routes(self) -> list[tuple[str, str]]:
        """``(path prefix, service)`` for every public route."""
        return [(route, name) for name, spec in self.services.items() for route in spec.routes]


# ---- loading -----------------------------------------------------------------------------
def load_topology(path: str | os.PathLike[str] | None = None,
                  env: Mapping[str, str] | None = None) -> Topology:
    """Load, override from ``env`` (default ``os.environ``) and validate a topology."""
    env = os.environ if env is None else env
    source = Path(path or env.get("CRASHCART_TOPOLOGY") or DEFAULT_TOPOLOGY_PATH)
    try:
        raw = tomllib.loads(source.read_text())
    except FileNotFoundError:
        raise TopologyError(f"topology file not found: {source}") from None
    except tomllib.TOMLDecodeError as exc:
        raise TopologyError(f"{source}: invalid TOML: {exc}") from None
    return parse_topology(raw, env=env, source=source)


def parse_topology(raw: Mapping[str, Any], *, env: Mapping[str, str] | None = None,
                   source: Path = DEFAULT_TOPOLOGY_PATH) -> Topology:
    """Build a validated :class:`Topology` from already-parsed TOML data."""
    env = {} if env is None else env
    where = str(source)
    known = {"gateway", "toxiproxy", "postgres", "rabbitmq", "settings", "services", "edges"}
    _reject_unknown(raw, known, where)
    sections = {name: dict(_table(raw, name, where)) for name in _OVERRIDABLE_SECTIONS}
    offset = _int_env(env, "CRASHCART_PORT_OFFSET")
    sections["gateway"]["port"] = _port(sections["gateway"], "port", f"{where} [gateway]") + offset
    sections["toxiproxy"]["port"] = (
        _port(sections["toxiproxy"], "port", f"{where} [toxiproxy]") + offset)
    _apply_env_overrides(sections, env)

    gateway = _build(GatewaySpec, sections["gateway"], f"{where} [gateway]")
    toxiproxy = _build(ToxiproxySpec, sections["toxiproxy"], f"{where} [toxiproxy]")
    postgres = _build(PostgresSpec, sections["postgres"], f"{where} [postgres]")
    rabbitmq = _build(RabbitSpec, sections["rabbitmq"], f"{where} [rabbitmq]")
    settings = _build(Settings, sections["settings"], f"{where} [settings]")

    db_suffix = env.get("CRASHCART_DATABASE_SUFFIX", "")
    services: dict[str, ServiceSpec] = {}
    for name, table in _table(raw, "services", where).items():
        ctx = f"{where} [services.{name}]"
        if not isinstance(table, Mapping):
            raise TopologyError(f"{ctx}: must be a table")
        _check_name(name, ctx)
        spec = _build(ServiceSpec, {"name": name, **table}, ctx)
        spec = replace(spec, port=_port({"port": spec.port}, "port", ctx) + offset,
                       database=spec.database + db_suffix, routes=tuple(spec.routes),
                       calls=tuple(spec.calls),
                       env={str(k): str(v) for k, v in dict(spec.env).items()})
        services[name] = spec
    if not services:
        raise TopologyError(f"{where}: no [services.*] declared")

    edges_raw = raw.get("edges", [])
    if not isinstance(edges_raw, list):
        raise TopologyError(f"{where}: [[edges]] must be an array of tables")
    edges = []
    for index, item in enumerate(edges_raw, start=1):
        ctx = f"{where} edge #{index}"
        if not isinstance(item, Mapping):
            raise TopologyError(f"{ctx}: must be a table")
        _reject_unknown(item, {"from", "to", "proxy_port"}, ctx)
        for key in ("from", "to", "proxy_port"):
            if key not in item:
                raise TopologyError(f"{ctx}: missing key {key!r}")
        edges.append(EdgeSpec(source=str(item["from"]), target=str(item["to"]),
                              proxy_port=_port(item, "proxy_port", ctx) + offset))

    topology = Topology(gateway=gateway, toxiproxy=toxiproxy, postgres=postgres,
                        rabbitmq=rabbitmq, settings=settings, services=services,
                        edges=tuple(edges), source=source)
    validate(topology)
    return topology


def validate(topology: Topology) -> None:
    """Raise :class:`TopologyError` on the first inconsistency, naming what is wrong."""
    where = str(topology.source)
    services = topology.services
    seen_edges: set[str] = set()
    for edge in topology.edges:
        ctx = f"{where}: edge {edge.source!r} -> {edge.target!r}"
        if edge.source != GATEWAY and edge.source not in services:
            raise TopologyError(f"{ctx}: unknown source {edge.source!r} "
                                f"(expected 'gateway' or one of {sorted(services)})")
        if edge.target not in services and edge.target not in (DB, BROKER):
            raise TopologyError(f"{ctx}: unknown target {edge.target!r} "
                                f"(expected 'db', 'broker' or one of {sorted(services)})")
        if edge.source == edge.target:
            raise TopologyError(f"{ctx}: an edge cannot point at itself")
        if edge.source == GATEWAY and edge.target in (DB, BROKER):
            raise TopologyError(f"{ctx}: the gateway only talks to services")
        if edge.name in seen_edges:
            raise TopologyError(f"{where}: duplicate edge {edge.name}")
        seen_edges.add(edge.name)
        if edge.source in services and edge.target in services \
                and edge.target not in services[edge.source].calls:
            raise TopologyError(f"{ctx}: service {edge.source!r} does not declare "
                                f"calls = [..{edge.target!r}..]")

    for name, spec in services.items():
        ctx = f"{where} [services.{name}]"
        for needed in (DB, BROKER, *spec.calls):
            if f"{name}_to_{needed}" not in seen_edges:
                raise TopologyError(f"{ctx}: missing edge {name}_to_{needed} "
                                    f"(every dependency goes through its own proxy)")
        for callee in spec.calls:
            if callee not in services:
                raise TopologyError(f"{ctx}: calls unknown service {callee!r}")
        if spec.routes and f"{GATEWAY}_to_{name}" not in seen_edges:
            raise TopologyError(f"{ctx}: has routes but no edge gateway_to_{name}")
        for route in spec.routes:
            if not _ROUTE_RE.match(route):
                raise TopologyError(f"{ctx}: bad route {route!r} (absolute path, no "
                                    f"trailing slash, URL-safe characters)")

    routes: dict[str, str] = {}
    for route, name in topology.gateway_routes():
        if route in routes:
            raise TopologyError(f"{where}: route {route} claimed by both "
                                f"{routes[route]!r} and {name!r}")
        routes[route] = name

    owners: dict[int, str] = {}
    claims = [("postgres", topology.postgres.port), ("rabbitmq", topology.rabbitmq.port),
              *topology.listening_ports().items()]
    for owner, port in claims:
        if not 1 <= port <= 65535:
            raise TopologyError(f"{where}: port {port} of {owner} is out of range 1..65535")
        if port in owners:
            raise TopologyError(f"{where}: duplicate port {port} used by both "
                                f"{owners[port]} and {owner}")
        owners[port] = owner


# ---- helpers -----------------------------------------------------------------------------
def _table(raw: Mapping[str, Any], key: str, where: str) -> Mapping[str, Any]:
    value = raw.get(key)
    if not isinstance(value, Mapping):
        raise TopologyError(f"{where}: missing table [{key}]")
    return value


def _reject_unknown(table: Mapping[str, Any], known: set[str], ctx: str) -> None:
    unknown = sorted(set(table) - known)
    if unknown:
        raise TopologyError(f"{ctx}: unknown key(s) {', '.join(unknown)} "
                            f"(known: {', '.join(sorted(known))})")


def _build(cls: type, table: Mapping[str, Any], ctx: str) -> Any:
    fields = cls.__dataclass_fields__  # type: ignore[attr-defined]
    _reject_unknown(table, set(fields), ctx)
    try:
        return cls(**table)
    except TypeError as exc:
        missing = [n for n, f in fields.items() if n not in table
                   and f.default is MISSING and f.default_factory is MISSING]
        raise TopologyError(f"{ctx}: missing key(s) {', '.join(missing) or '?'} ({exc})") \
            from None


def _check_name(name: str, ctx: str) -> None:
    if not _NAME_RE.match(name):
        raise TopologyError(f"{ctx}: bad service name {name!r} (lowercase letters and "
                            f"digits, starting with a letter; it becomes part of URL-safe "
                            f"proxy names and the package {name}_service)")
    if name in _RESERVED:
        raise TopologyError(f"{ctx}: {name!r} is a reserved component name")


def _port(table: Mapping[str, Any], key: str, ctx: str) -> int:
    value = table.get(key)
    if isinstance(value, bool) or not isinstance(value, int):
        raise TopologyError(f"{ctx}: {key} must be an integer port, got {value!r}")
    return value


def _int_env(env: Mapping[str, str], key: str) -> int:
    value = env.get(key, "").strip()
    if not value:
        return 0
    try:
        return int(value)
    except ValueError:
        raise TopologyError(f"environment {key}={value!r} is not an integer") from None


def _apply_env_overrides(sections: dict[str, dict[str, Any]], env: Mapping[str, str]) -> None:
    for section, table in sections.items():
        for key, current in list(table.items()):
            var = f"CRASHCART_{section.upper()}_{key.upper()}"
            if var not in env:
                continue
            text = env[var]
            try:
                if isinstance(current, bool):
                    value: Any = text.lower() in ("1", "true", "yes")
                elif isinstance(current, int):
                    value = int(text)
                elif isinstance(current, float):
                    value = float(text)
                else:
                    value = text
            except ValueError:
                raise TopologyError(f"environment {var}={text!r}: expected "
                                    f"{type(current).__name__}") from None
            table[key] = value
