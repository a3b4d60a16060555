"""The state dir and state file that let a later process (``crashcart down``) find what
an earlier one (``crashcart up``) started."""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from chaos.topology import REPO_ROOT

STATE_FILE_NAME = "state.json"


def default_state_dir() -> Path:
    """``$CRASHCART_STATE_DIR`` or ``.crashcart/`` under the repository root."""
    configured = os.environ.get("CRASHCART_STATE_DIR")
    return Path(configured).resolve() if configured else REPO_ROOT / ".crashcart"


@dataclass(slots=True)
class ComponentRecord:
    """One started process (its own process group, ``pgid == pid``)."""

    name: str
    kind: str  # "toxiproxy" | "service" | "gateway"
    pid: int
    ports: list[int]
    log: str
    create_time: float
    command: list[str] = field(default_factory=list)
    ready_url: str = ""


@dataclass(slots=True)
class PlatformState:
    topology: str
    gateway_url: str
    toxiproxy_url: str
    service_urls: dict[str, str]
    ports: dict[str, int]
    components: list[ComponentRecord] = field(default_factory=list)
    started_at: float = field(default_factory=time.time)
    external_toxiproxy: bool = False

    def component(self, name: str) -> ComponentRecord:
        for record in self.components:
            if record.name == name:
                return record
        known = ", ".join(r.name for r in self.components)
        raise KeyError(f"no component {name!r} in the platform state (known: {known})")

    def replace_component(self, record: ComponentRecord) -> None:
        self.components = [record if r.name == record.name else r for r in self.components]


@dataclass(slots=True)
class StateDir:
    root: Path

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def state_file(self) -> Path:
        return self.root / STATE_FILE_NAME

    def log_path(self, component: str) -> Path:
        return self.logs / f"{component}.log"

    def prepare(self) -> None:
        self.logs.mkdir(parents=True, exist_ok=True)

    def load(self) -> PlatformState | None:
        try:
            raw = json.loads(self.state_file.read_text())
        except FileNotFoundError:
            return None
        except (OSError, json.JSONDecodeError) as exc:
            raise RuntimeError(f"unreadable state file {self.state_file}: {exc}") from None
        components = [ComponentRecord(**c) for c in raw.pop("components", [])]
        return PlatformState(components=components, **raw)

    def save(self, state: PlatformState) -> None:
        self.prepare()
        tmp = self.state_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(state), indent=2))
        tmp.replace(self.state_file)

    def clear(self) -> None:
        self.state_file.unlink(missing_ok=True)
