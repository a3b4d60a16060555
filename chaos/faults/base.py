"""The fault interface, the context a fault acts in, and the registry of fault kinds.

A fault is a small frozen dataclass (fields named with their units) that can ``apply`` and
``undo`` itself idempotently given a :class:`FaultContext`, and round-trips through a plain
dict (``to_spec`` / :func:`fault_from_spec`) so the watchdog process, ``crashcart heal`` and
experiment files can rebuild it.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, TypeVar

from chaos.topology import Topology, load_topology

if TYPE_CHECKING:
    from chaos.backends.local import LocalBackend
    from chaos.faults.admin import ToxiproxyAdmin

ENV_PREFIX = "CRASHCART_"


class Fault(Protocol):
    """What every fault unit offers."""

    kind: ClassVar[str]

    def apply(self, ctx: FaultContext) -> None: ...
    def undo(self, ctx: FaultContext) -> None: ...
    def describe(self) -> str: ...


FAULTS: dict[str, type[Any]] = {}
F = TypeVar("F")


def register(cls: type[F]) -> type[F]:
    """Class decorator: make a fault kind known by its ``kind`` name."""
    FAULTS[cls.kind] = cls  # type: ignore[attr-defined]
    return cls


def to_spec(fault: Any) -> dict[str, Any]:
    """The fault as a JSON-able dict: ``{"kind": ..., <fields>}``."""
    spec: dict[str, Any] = {"kind": fault.kind}
    for item in dataclasses.fields(fault):
        value = getattr(fault, item.name)
        spec[item.name] = list(value) if isinstance(value, tuple) else value
    return spec


def fault_from_spec(spec: dict[str, Any]) -> Any:
    """Rebuild a fault from :func:`to_spec`'s dict (unknown kind or field: ``ValueError``)."""
    data = dict(spec)
    kind = data.pop("kind", None)
    cls = FAULTS.get(str(kind))
    if cls is None:
        raise ValueError(f"unknown fault kind {kind!r} (known: {', '.join(sorted(FAULTS))})")
    names = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - set(names))
    if unknown:
        raise ValueError(f"fault {kind}: unknown field(s) {', '.join(unknown)} "
                         f"(known: {', '.join(names)})")
    for key, value in list(data.items()):
        if isinstance(value, list):
            data[key] = tuple(value)
    return cls(**data)


@dataclass(slots=True)
class FaultContext:
    """Where faults act: the topology, its Toxiproxy, its state dir (process faults), the broker.

    Clients are made lazily and belong to this context only (no class-level state).
    ``env`` keeps the ``CRASHCART_*`` overrides the topology was loaded with, so another
    process (watchdog, ``crashcart heal``) rebuilds the same topology.
    """

    topology: Topology
    toxiproxy_url: str
    state_dir: Path
    env: dict[str, str] = field(default_factory=dict)
    _admin: ToxiproxyAdmin | None = field(default=None, repr=False)
    _backend: LocalBackend | None = field(default=None, repr=False)

    @classmethod
    def from_environment(cls, state_dir: Path | str | None = None,
                         toxiproxy_url: str | None = None) -> FaultContext:
        from chaos.backends.local.state import default_state_dir

        env = {k: v for k, v in os.environ.items() if k.startswith(ENV_PREFIX)}
        topology = load_topology()
        root = Path(state_dir).resolve() if state_dir else default_state_dir()
        url = toxiproxy_url or _recorded_toxiproxy_url(root) or topology.toxiproxy_url
        return cls(topology=topology, toxiproxy_url=url, state_dir=root, env=env)

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> FaultContext:
        env = {str(k): str(v) for k, v in dict(record.get("env", {})).items()}
        topology = load_topology(record.get("topology") or None,
                                 env={**os.environ, **env})
        return cls(topology=topology, toxiproxy_url=str(record["toxiproxy_url"]),
                   state_dir=Path(record["state_dir"]), env=env)

    def record(self) -> dict[str, Any]:
        return {"topology": str(self.topology.source), "toxiproxy_url": self.toxiproxy_url,
                "state_dir": str(self.state_dir), "env": dict(self.env)}

    @property
    def admin(self) -> ToxiproxyAdmin:
        if self._admin is None:
            from chaos.faults.admin import ToxiproxyAdmin

            self._admin = ToxiproxyAdmin(self.toxiproxy_url)
        return self._admin

    @property
    def backend(self) -> LocalBackend:
        if self._backend is None:
            from chaos.backends.local import LocalBackend

            self._backend = LocalBackend(self.topology, self.state_dir)
        return self._backend

    @property
    def vhost(self) -> str:
        return self.topology.rabbitmq.vhost

    def resolve_edges(self, patterns: tuple[str, ...]) -> list[str]:
        """Proxy names matching names or shell patterns (``*_to_db``); none matching: error."""
        names = self.topology.proxy_names
        found = [n for n in names if any(fnmatch.fnmatchcase(n, p) for p in patterns)]
        if not found:
            raise ValueError(f"no edge matches {list(patterns)} (edges: {', '.join(names)})")
        return found

    def close(self) -> None:
        if self._admin is not None:
            self._admin.close()
            self._admin = None


def _recorded_toxiproxy_url(root: Path) -> str | None:
    from chaos.backends.local.state import StateDir

    try:
        state = StateDir(root).load()
    except RuntimeError:
        return None
    return state.toxiproxy_url if state else None
