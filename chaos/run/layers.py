"""The layers of ``crashcart run``, declared in one place.

Why: the orchestrator, the report's epic label and the docs all need to know which pytest
paths make up a layer, in which order layers run and which profile includes them. Adding a
layer is one entry in ``LAYERS``; a layer whose paths do not exist yet (its suite is not
written) is reported as absent instead of breaking the run.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from chaos.topology import REPO_ROOT

PROFILES: tuple[str, ...] = ("quick", "default", "full")
QUICK, DEFAULT, FULL = PROFILES
ALL_PROFILES = frozenset(PROFILES)
DEFAULT_AND_FULL = frozenset({DEFAULT, FULL})


@dataclass(frozen=True, slots=True)
class Layer:
    """One pytest run of ``crashcart run`` and one epic of the report."""

    name: str
    """The layer's name: ``--only``/``--skip`` value and the report's epic label."""
    paths: tuple[str, ...]
    """Test paths relative to the repository root; missing ones are ignored."""
    summary: str
    """What the layer shows, one line (terminal summary and docs)."""
    profiles: frozenset[str] = DEFAULT_AND_FULL
    """Profiles that run it (``--only`` runs a layer whatever the profile)."""
    needs_platform: bool = True
    """Whether the orchestrator must bring the shared platform up before it."""
    markers: dict[str, str] = field(default_factory=dict)
    """Per-profile ``-m`` expression (e.g. campaigns only in ``full``)."""
    severity: str = "normal"
    """The report's default severity for its tests (what a failure would cost); a test's
    own ``@allure.severity`` wins."""

    def present_paths(self, root: Path = REPO_ROOT) -> list[Path]:
        """Paths of this layer that exist and hold at least one test module."""
        found = []
        for rel in self.paths:
            path = root / rel
            if path.is_file() or (path.is_dir() and any(path.rglob("test_*.py"))):
                found.append(path)
        return found

    def marker_expression(self, profile: str) -> str | None:
        return self.markers.get(profile, DEFAULT_MARKERS.get(profile))


DEFAULT_MARKERS: dict[str, str] = {
    QUICK: "not slow and not campaign",
    DEFAULT: "not campaign",
    FULL: "campaign or not campaign",
}
"""The ``-m`` expression of a profile unless a layer says otherwise."""

LAYERS: tuple[Layer, ...] = (
    Layer("unit", ("suites/platform_unit",), "svckit pieces in isolation",
          profiles=ALL_PROFILES, needs_platform=False, severity="minor"),
    Layer("toxiproxy", ("suites/toxiproxy", "suites/toxiproxy_harness"),
          "Toxiproxy API and toxic semantics on real sockets; the harness side of it",
          needs_platform=False),
    Layer("contracts", ("suites/contracts",),
          "Pact consumer tests and provider verification (HTTP and saga messages)",
          profiles=ALL_PROFILES, severity="critical"),
    Layer("platform", ("suites/platform",),
          "the public API through the gateway: checkout, idempotency, auth, resilience",
          profiles=ALL_PROFILES, severity="critical"),
    Layer("fuzz", ("suites/fuzz",), "Schemathesis on every OpenAPI document"),
    Layer("security", ("suites/security",), "authentication, authorization, injection",
          severity="critical"),
    Layer("chaos", ("suites/chaos",), "chaos experiments at the default tier: faults, "
                                      "invariants, recovery", severity="critical"),
    Layer("load", ("suites/load",), "Locust journeys against SLO gates"),
    Layer("runtime", ("suites/runtime", "suites/topology"),
          "up/down/status, preflight errors, gateway edge cases, compose drift",
          needs_platform=False),
    Layer("selftest", ("suites/selftest",),
          "the self-test's defect catalogue still applies to today's platform",
          needs_platform=False, severity="minor"),
    Layer("report", ("suites/report",),
          "the orchestrator and the report itself (nested runs in their own instance)",
          profiles=frozenset({FULL}), needs_platform=False, severity="minor"),
)


class UnknownLayer(ValueError):
    """``--only``/``--skip`` named a layer that is not in the registry."""


def layer_names() -> list[str]:
    return [layer.name for layer in LAYERS]


def by_name(name: str) -> Layer:
    for layer in LAYERS:
        if layer.name == name:
            return layer
    raise UnknownLayer(f"unknown layer {name!r}; layers: {', '.join(layer_names())}")


def select(profile: str, only: Sequence[str] = (), skip: Sequence[str] = ()) -> list[Layer]:
    """Layers to run, in registry order: ``only`` (any profile) or the profile's, less ``skip``."""
    if profile not in PROFILES:
        raise UnknownLayer(f"unknown profile {profile!r}; profiles: {', '.join(PROFILES)}")
    for name in (*only, *skip):
        by_name(name)
    chosen = [layer for layer in LAYERS
              if (layer.name in only if only else profile in layer.profiles)]
    return [layer for layer in chosen if layer.name not in skip]


def layer_for(test_path: str | Path, layers: Iterable[Layer] = LAYERS,
              root: Path = REPO_ROOT) -> Layer | None:
    name = epic_for(test_path, layers, root)
    return by_name(name) if name else None


def epic_for(test_path: str | Path, layers: Iterable[Layer] = LAYERS,
             root: Path = REPO_ROOT) -> str | None:
    """The layer a test file belongs to (its epic), by the longest matching layer path."""
    path = Path(test_path)
    rel = path.relative_to(root) if path.is_absolute() and path.is_relative_to(root) else path
    text = rel.as_posix()
    best: tuple[int, str] | None = None
    for layer in layers:
        for prefix in layer.paths:
            if (text == prefix or text.startswith(prefix.rstrip("/") + "/")) and \
                    (best is None or len(prefix) > best[0]):
                best = (len(prefix), layer.name)
    return best[1] if best else None
