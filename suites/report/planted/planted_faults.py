"""The planted fault left behind: a toxic added and never removed (own module, because the
reporting plugin checks at the end of each module)."""

from __future__ import annotations

from typing import Any

import allure
import httpx

from suites.helpers.http import gateway_client

pytestmark = allure.epic("planted")


@allure.feature("planted → upstream")
def test_planted_fault_left_behind(running_platform: Any) -> None:
    httpx.post(f"{running_platform.toxiproxy_url}/proxies/planted_to_upstream/toxics",
               json={"name": "planted_latency", "type": "latency", "stream": "downstream",
                     "attributes": {"latency": 50}}, timeout=5).raise_for_status()
    client, _log = gateway_client(running_platform.proxy_url)
    with client:
        assert client.get("/hello", headers={"X-Request-ID": "planted-rid-1"}).status_code == 200
