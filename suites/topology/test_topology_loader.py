"""The topology loader: derived wiring and clear validation errors."""

from __future__ import annotations

import tomllib
from copy import deepcopy
from pathlib import Path

import pytest

from chaos.topology import DEFAULT_TOPOLOGY_PATH, TopologyError, load_topology, parse_topology

RAW = tomllib.loads(DEFAULT_TOPOLOGY_PATH.read_text())


def _parse(raw: dict, **env: str):
    return parse_topology(raw, env=env, source=Path("test.toml"))


def test_default_topology_derives_the_mesh() -> None:
    topo = load_topology(env={})
    names = {p.name for p in topo.proxies()}
    assert {"gateway_to_user", "order_to_user", "order_to_db", "payment_to_broker"} <= names
    assert len(names) == len(topo.edges)
    order_env = topo.service_env("order")
    user_proxy = topo.edge("order", "user").proxy_port
    assert order_env["USER_SERVICE_URL"] == f"http://127.0.0.1:{user_proxy}"
    assert order_env["DATABASE_URL"].endswith(
        f"@127.0.0.1:{topo.edge('order', 'db').proxy_port}/crashcart_order")
    assert topo.gateway_url == "http://127.0.0.1:8080"
    assert topo.toxiproxy_url == "http://127.0.0.1:8474"


def test_env_overrides_and_port_offset() -> None:
    topo = _parse(RAW, CRASHCART_PORT_OFFSET="1000", CRASHCART_GATEWAY_PORT="9999",
                  CRASHCART_POSTGRES_PORT="6543", CRASHCART_DATABASE_SUFFIX="_t")
    assert topo.gateway.port == 9999
    assert topo.toxiproxy.port == 9474
    assert topo.service("user").port == 9101
    assert topo.edge("order", "user").proxy_port == 22011
    assert topo.postgres.port == 6543
    assert topo.service("user").database == "crashcart_user_t"


def test_topology_path_from_env(tmp_path: Path) -> None:
    alt = tmp_path / "alt.toml"
    alt.write_text(DEFAULT_TOPOLOGY_PATH.read_text().replace("port = 8080", "port = 8181"))
    assert load_topology(env={"CRASHCART_TOPOLOGY": str(alt)}).gateway.port == 8181


def _mutated(mutate) -> dict:
    raw = deepcopy(RAW)
    mutate(raw)
    return raw


def _edge(raw: dict, name: str) -> dict:
    return next(e for e in raw["edges"] if f"{e['from']}_to_{e['to']}" == name)


CASES = {
    "unknown edge source": (lambda r: _edge(r, "order_to_user").update({"from": "billing"}),
                            "unknown source 'billing'"),
    "unknown edge target": (lambda r: _edge(r, "gateway_to_user").update({"to": "cache"}),
                            "unknown target 'cache'"),
    "duplicate proxy port": (lambda r: _edge(r, "order_to_db").update({"proxy_port": 21001}),
                             "duplicate port 21001"),
    "service port clashes with gateway": (
        lambda r: r["services"]["user"].update({"port": 8080}), "duplicate port 8080"),
    "bad service name": (lambda r: r["services"].update({"Bad-Name": r["services"].pop("payment")}),
                         "bad service name 'Bad-Name'"),
    "missing db edge": (lambda r: r["edges"].remove(_edge(r, "user_to_db")),
                        "missing edge user_to_db"),
    "call without edge": (lambda r: r["edges"].remove(_edge(r, "order_to_product")),
                          "missing edge order_to_product"),
    "edge without call": (lambda r: r["services"]["order"].update({"calls": ["user"]}),
                          "does not declare calls"),
    "duplicate edge": (lambda r: r["edges"].append(dict(_edge(r, "order_to_user"),
                                                        proxy_port=29999)),
                       "duplicate edge order_to_user"),
    "gateway to db": (lambda r: r["edges"].append({"from": "gateway", "to": "db",
                                                   "proxy_port": 29998}),
                      "the gateway only talks to services"),
    "typo key": (lambda r: r["gateway"].update({"prot": 1}), "unknown key(s) prot"),
    "port not int": (lambda r: r["services"]["user"].update({"port": "8101"}),
                     "port must be an integer"),
    "port out of range": (lambda r: _edge(r, "order_to_db").update({"proxy_port": 70000}),
                          "out of range"),
    "missing gateway table": (lambda r: r.pop("gateway"), "missing table [gateway]"),
    "bad route": (lambda r: r["services"]["user"].update({"routes": ["api/users/"]}),
                  "bad route"),
}


@pytest.mark.parametrize("mutate,message", CASES.values(), ids=CASES.keys())
def test_validation_error_names_the_problem(mutate, message: str) -> None:
    with pytest.raises(TopologyError, match=message.replace("(", r"\(").replace(")", r"\)")
                       .replace("[", r"\[").replace("]", r"\]")):
        _parse(_mutated(mutate))


def test_bad_override_value_is_reported() -> None:
    with pytest.raises(TopologyError, match="CRASHCART_GATEWAY_PORT='x'"):
        _parse(RAW, CRASHCART_GATEWAY_PORT="x")


def test_missing_file_is_reported(tmp_path: Path) -> None:
    with pytest.raises(TopologyError, match="topology file not found"):
        load_topology(tmp_path / "nope.toml", env={})
