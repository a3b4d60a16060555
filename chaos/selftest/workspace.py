"""A throw-away copy of the repository with one defect planted, on its own instance.

Why a whole copy: the suites, the fixtures and every process they start import the
platform and the harness through ``PYTHONPATH`` (the copy before the editable install), so
the patched platform is what the layers test, while the checkout other engineers edit and
the shared platform instance stay untouched. The instance (ports, state dir, databases,
vhost) is the self-test's own, so it never meets anyone's running platform.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from chaos.selftest.catalogue import Defect, Patch
from chaos.topology import REPO_ROOT

IGNORED = (".venv", ".git", "node_modules", ".crashcart", "allure-results", "allure-report",
           "allure-history", "reports", ".mypy_cache", ".ruff_cache", ".pytest_cache",
           "__pycache__", "*.pyc", ".hypothesis", "crashcart.egg-info")

INSTANCE_ENV: dict[str, str] = {
    "CRASHCART_PORT_OFFSET": "7000",
    "CRASHCART_DATABASE_SUFFIX": "_st",
    "CRASHCART_RABBITMQ_VHOST": "crashcart_st",
}
"""The self-test's own instance for patched copies (port offset 7000; nobody else uses it)."""
REFERENCE_ENV: dict[str, str] = {
    "CRASHCART_PORT_OFFSET": "7500",
    "CRASHCART_DATABASE_SUFFIX": "_stref",
    "CRASHCART_RABBITMQ_VHOST": "crashcart_stref",
}
"""The unpatched reference copy's instance: a detection counts only if the failing test
passes there (otherwise it is a failure of the tree, not of the defect)."""


class PatchError(RuntimeError):
    """A defect's snippet is not in the platform exactly once (the code moved on)."""


def patch_problems(defect: Defect, platform_dir: Path) -> list[str]:
    """Why the defect's patches would not apply to ``platform_dir`` (empty: they apply)."""
    problems = []
    texts: dict[str, str] = {}
    for patch in defect.patches:
        path = platform_dir / patch.file
        if patch.file not in texts:
            try:
                texts[patch.file] = path.read_text(encoding="utf-8")
            except OSError as exc:
                problems.append(f"{defect.id}: {patch.file}: {exc}")
                continue
        found = texts[patch.file].count(patch.old)
        if found != 1:
            problems.append(f"{defect.id}: {patch.file}: snippet found {found} times: "
                            f"{patch.old.strip()[:80]!r}")
            continue
        texts[patch.file] = texts[patch.file].replace(patch.old, patch.new)
    return problems


def apply_patch(platform_dir: Path, patch: Patch) -> None:
    path = platform_dir / patch.file
    text = path.read_text(encoding="utf-8")
    if text.count(patch.old) != 1:
        raise PatchError(f"{patch.file}: snippet found {text.count(patch.old)} times")
    path.write_text(text.replace(patch.old, patch.new, 1), encoding="utf-8")


def ensure_vhost(vhost: str) -> None:
    """The instance's vhosts (and the planted-breach world's) exist with guest rights."""
    for name in (vhost, f"{vhost}_planted"):
        for command in (["rabbitmqctl", "add_vhost", name],
                        ["rabbitmqctl", "set_permissions", "-p", name, "guest", ".*", ".*",
                         ".*"]):
            try:
                subprocess.run(command, capture_output=True, timeout=60, check=False)
            except (OSError, subprocess.SubprocessError):
                return  # not on this host's PATH: the platform's preflight will say so


@dataclass(slots=True)
class Workspace:
    """The copy at ``root`` with its environment; ``close`` removes the copy."""

    root: Path
    env: dict[str, str]
    defect: Defect | None

    @classmethod
    def create(cls, defect: Defect | None, *, revision: str | None = "HEAD",
               source: Path = REPO_ROOT, instance: Mapping[str, str] = INSTANCE_ENV,
               label: str | None = None) -> Workspace:
        """A copy of ``revision`` (committed tree: others' uncommitted edits never leak in)
        or, with ``revision=None``, of the working tree as it is."""
        name = label or (defect.id if defect else "clean")
        root = Path(tempfile.mkdtemp(prefix=f"selftest-{name}-"))
        tree = root / "repo"
        if revision is None:
            shutil.copytree(source, tree, ignore=shutil.ignore_patterns(*IGNORED),
                            symlinks=True)
        else:
            export_revision(source, revision, tree)
        modules = source / "node_modules"
        if modules.is_dir():
            (tree / "node_modules").symlink_to(modules)
        init_git(tree, f"selftest copy of {revision or 'the working tree'}")
        if defect is not None:
            for patch in defect.patches:
                apply_patch(tree / "platform", patch)
        state = root / "state"
        env = {**os.environ, **instance,
               "CRASHCART_STATE_DIR": str(state),
               "PYTHONPATH": f"{tree}{os.pathsep}{tree / 'platform'}",
               "PYTHONDONTWRITEBYTECODE": "1"}
        for key in ("CRASHCART_TOPOLOGY", "TOXIPROXY_URL"):
            env.pop(key, None)
        return cls(tree, env, defect)

    @property
    def state_dir(self) -> Path:
        return Path(self.env["CRASHCART_STATE_DIR"])

    def crashcart(self, *args: str, timeout: float = 300.0) -> subprocess.CompletedProcess[str]:
        """``crashcart ARGS`` run from the copy (its code, its instance)."""
        return subprocess.run([sys.executable, "-m", "chaos.cli", *args], cwd=self.root,
                              env=self.env, capture_output=True, text=True, timeout=timeout,
                              check=False, stdin=subprocess.DEVNULL)

    def up(self) -> subprocess.CompletedProcess[str]:
        return self.crashcart("up", "--timeout", "180", timeout=400)

    def down(self) -> None:
        """Heal faults, stop the instance, drop its databases; never raises."""
        for args in (("heal",), ("down",)):
            try:
                self.crashcart(*args, timeout=180)
            except (OSError, subprocess.SubprocessError):
                pass

    def close(self) -> None:
        self.down()
        drop_instance_databases(self.env)
        shutil.rmtree(self.root.parent, ignore_errors=True)


def init_git(tree: Path, message: str) -> None:
    """The copy is a repository of its own (tests and commands read ``git rev-parse``); the
    defect's patch is then an uncommitted change in it, as in a developer's checkout."""
    for args in (["init", "-q"], ["add", "-A"],
                 ["-c", "user.name=crashcart selftest", "-c", "user.email=selftest@localhost",
                  "commit", "-q", "--no-verify", "-m", message]):
        subprocess.run(["git", *args], cwd=tree, capture_output=True, timeout=300, check=True)


def export_revision(source: Path, revision: str, dest: Path) -> None:
    """``git archive REVISION`` unpacked at ``dest``."""
    dest.mkdir(parents=True)
    archive = subprocess.run(["git", "-C", str(source), "archive", "--format=tar", revision],
                             capture_output=True, timeout=120, check=False)
    if archive.returncode != 0:
        raise RuntimeError(f"git archive {revision}: {archive.stderr.decode(errors='replace')}")
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive.stdout, timeout=120,
                   check=True)


def drop_instance_databases(env: Mapping[str, str]) -> None:
    """Every database whose name carries the instance's suffix (fresh state next time)."""
    from chaos.topology import load_topology

    try:
        topology = load_topology(env=dict(env))
        pg = topology.postgres
        asyncio.run(_drop(pg.url("postgres", host=pg.host, port=pg.port),
                          env["CRASHCART_DATABASE_SUFFIX"]))
    except Exception as exc:  # cleanup must not hide the result; say what was left
        print(f"selftest: could not drop the instance's databases: {exc!r}", file=sys.stderr)


async def _drop(admin_url: str, suffix: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(admin_url, timeout=10)
    try:
        names = [row["datname"] for row in await conn.fetch("SELECT datname FROM pg_database")]
        for name in names:
            # Exact string tests (LIKE's `_` is a wildcard): only this instance's databases.
            if name.startswith("crashcart") and (name.endswith(suffix) or f"{suffix}_" in name):
                await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()
