"""Server process options (spec §1, §10): `-config` applies proxies before the API answers,
`-proxy-metrics` serves per-proxy byte counters that grow when a connection ends.

These start their own embedded servers with flags, so they are embedded_only.
"""
from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from suites.toxiproxy import admin, net
from suites.toxiproxy.upstreams import Upstream

if TYPE_CHECKING:
    from chaos.toxiproxy.runner import RunningServer

pytestmark = pytest.mark.embedded_only


def test_startup_config_creates_proxies_before_the_api_answers(
    embedded_server: Callable[..., RunningServer], echo_upstream: Upstream, tmp_path: Path
) -> None:
    port = net.free_port()
    config = tmp_path / "toxiproxy.json"
    config.write_text(json.dumps([
        {"name": "from_config", "listen": f"127.0.0.1:{port}", "upstream": echo_upstream.address},
        {"name": "disabled_in_config", "listen": "127.0.0.1:0", "upstream": "127.0.0.1:1",
         "enabled": False},
    ]))
    server = embedded_server(config=str(config))
    with httpx.Client(base_url=server.url, timeout=10.0) as api:
        index = api.get("/proxies").json()
    assert set(index) == {"from_config", "disabled_in_config"}
    assert index["from_config"]["listen"] == f"127.0.0.1:{port}"
    assert index["disabled_in_config"]["enabled"] is False
    with net.connect(port) as client:
        net.round_trip_ms(client, b"configured")


def test_bad_startup_config_is_only_logged(
    embedded_server: Callable[..., RunningServer], tmp_path: Path
) -> None:
    config = tmp_path / "broken.json"
    config.write_text("[{ not json")
    server = embedded_server(config=str(config))
    with httpx.Client(base_url=server.url, timeout=10.0) as api:
        assert api.get("/proxies").json() == {}


def _samples(text: str, metric: str, proxy: str) -> dict[str, float]:
    values: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == metric and sample.labels.get("proxy") == proxy:
                values[sample.labels["direction"]] = sample.value
    return values


def test_proxy_metrics_count_bytes_when_a_connection_ends(
    embedded_server: Callable[..., RunningServer], echo_upstream: Upstream
) -> None:
    server = embedded_server(extra_args=["-proxy-metrics"])
    with httpx.Client(base_url=server.url, timeout=10.0) as api:
        proxy = admin.create_proxy(api, echo_upstream.address, name="metered")
        with net.connect(admin.port_of(proxy["listen"])) as client:
            net.round_trip_ms(client, b"x" * 100)

        def counted() -> bool:
            text = api.get("/metrics").text
            return _samples(text, "toxiproxy_proxy_received_bytes_total", "metered") == {
                "upstream": 100.0, "downstream": 100.0}

        assert net.wait_until(counted, timeout=3.0), api.get("/metrics").text[-2000:]
        sent = _samples(api.get("/metrics").text, "toxiproxy_proxy_sent_bytes_total", "metered")
    assert sent == {"upstream": 100.0, "downstream": 100.0}
