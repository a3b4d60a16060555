"""A Toxiproxy admin client of its own (httpx), one per fault context.

Why: toxiproxy-python keeps the server's host and port in class attributes, so two tests
(or a test and the watchdog) talking to two servers would overwrite each other's address.
This client holds its URL on the instance and speaks only the documented admin API.
"""

from __future__ import annotations

from typing import Any

import httpx


class ToxiproxyError(RuntimeError):
    """The admin API refused a request (message includes its status and error text)."""


class ToxiproxyAdmin:
    def __init__(self, url: str, *, timeout_s: float = 10.0) -> None:
        self.url = url.rstrip("/")
        self._http = httpx.Client(base_url=self.url, timeout=timeout_s)

    def close(self) -> None:
        self._http.close()

    def proxies(self) -> dict[str, dict[str, Any]]:
        return dict(self._checked(self._http.get("/proxies")).json())

    def proxy(self, name: str) -> dict[str, Any]:
        return dict(self._checked(self._http.get(f"/proxies/{name}")).json())

    def set_enabled(self, name: str, enabled: bool) -> None:
        self._checked(self._http.post(f"/proxies/{name}", json={"enabled": enabled}))

    def toxics(self, proxy: str) -> list[dict[str, Any]]:
        return list(self._checked(self._http.get(f"/proxies/{proxy}/toxics")).json())

    def put_toxic(self, proxy: str, *, name: str, type: str,  # noqa: A002 - API field
                  stream: str, toxicity: float, attributes: dict[str, Any]) -> None:
        """Add the toxic, or update it in place when one of that name exists (idempotent)."""
        body = {"name": name, "type": type, "stream": stream, "toxicity": toxicity,
                "attributes": attributes}
        answer = self._http.post(f"/proxies/{proxy}/toxics", json=body)
        if answer.status_code == 409:
            answer = self._http.post(f"/proxies/{proxy}/toxics/{name}",
                                     json={"attributes": attributes, "toxicity": toxicity})
        self._checked(answer)

    def remove_toxic(self, proxy: str, name: str) -> bool:
        """Remove a toxic; False when it (or its proxy) is already gone (idempotent)."""
        answer = self._http.delete(f"/proxies/{proxy}/toxics/{name}")
        if answer.status_code == 404:
            return False
        self._checked(answer)
        return True

    def reset(self) -> None:
        self._checked(self._http.post("/reset"))

    @staticmethod
    def _checked(answer: httpx.Response) -> httpx.Response:
        if answer.status_code >= 300:
            raise ToxiproxyError(f"{answer.request.method} {answer.request.url.path}: "
                                 f"HTTP {answer.status_code}: {answer.text.strip()}")
        return answer
