"""Compose backend: process faults on the containers of ``docker-compose.yml``.

The same fault vocabulary as the local backend (stop/start/kill/pause/resume/restart by
service name), through the docker SDK; imported lazily so the harness runs without docker.
"""

from __future__ import annotations

from typing import Any

from chaos.topology import REPO_ROOT

DEFAULT_PROJECT = REPO_ROOT.name.lower()


class ComposeBackend:
    """Container faults for one compose project (``docker compose -p <project>``)."""

    def __init__(self, project: str = DEFAULT_PROJECT, client: Any = None) -> None:
        self.project = project
        self._client = client

    @property
    def client(self) -> Any:
        if self._client is None:
            import docker  # lazy: docker is only needed when this backend is used

            self._client = docker.from_env()  # type: ignore[attr-defined]
        return self._client

    def container(self, service: str) -> Any:
        labels = [f"com.docker.compose.project={self.project}",
                  f"com.docker.compose.service={service}"]
        found = self.client.containers.list(all=True, filters={"label": labels})
        if not found:
            raise LookupError(f"no container for service {service!r} in compose project "
                              f"{self.project!r}")
        return found[0]

    def stop_service(self, service: str, *, timeout: int = 10) -> None:
        self.container(service).stop(timeout=timeout)

    def start_service(self, service: str) -> None:
        self.container(service).start()

    def kill_service(self, service: str) -> None:
        self.container(service).kill()

    def pause_service(self, service: str) -> None:
        self.container(service).pause()

    def resume_service(self, service: str) -> None:
        self.container(service).unpause()

    def restart_service(self, service: str, *, timeout: int = 10) -> None:
        self.container(service).restart(timeout=timeout)
