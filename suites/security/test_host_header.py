"""No answer is built from the client's Host header (issue 11: `GET /api/v1/orders/` with
`Host: evil.example:1234` redirected to `http://evil.example:1234/api/v1/orders`).

The services do not redirect at all (FastAPI's trailing-slash redirect is off: a trailing
slash is a 404 problem, like any path the document does not declare) and nginx keeps its
own redirects relative (`absolute_redirect off`).
"""

from __future__ import annotations

import httpx
import pytest

from suites.helpers.problems import assert_problem

pytestmark = [pytest.mark.platform]

EVIL_HOSTS = ["evil.example:1234", "evil.example", "127.0.0.1:1", "[::1]:80"]
SLASHED = ["/api/v1/orders/", "/api/v1/products/", "/api/v1/payments/", "/api/v1/users/me/",
           "/api/v1/products/1/"]


@pytest.mark.parametrize("host", EVIL_HOSTS)
@pytest.mark.parametrize("path", SLASHED)
def test_a_trailing_slash_is_a_404_not_a_redirect_to_the_callers_host(
        gateway_url: str, service_urls: dict[str, str], host: str, path: str) -> None:
    service = {"orders": "order", "products": "product", "payments": "payment",
               "users": "user"}[path.split("/")[3]]
    for base in (gateway_url, service_urls[service]):
        answer = httpx.get(base + path, headers={"Host": host}, timeout=10.0,
                           follow_redirects=False)
        assert "location" not in answer.headers, answer.headers
        assert_problem(answer, 404)
        assert host.split(":")[0] not in answer.text


def test_no_answer_mentions_the_callers_host(gateway_url: str) -> None:
    for path in ("/api/v1/products", "/nowhere", "/api/v1/orders", "/health"):
        answer = httpx.get(gateway_url + path, headers={"Host": "evil.example"}, timeout=10.0)
        assert "evil.example" not in answer.text
        assert all("evil.example" not in v for v in answer.headers.values())
