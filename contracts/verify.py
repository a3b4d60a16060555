"""Provider verification with ``pact.Verifier``, reduced to per-interaction results.

Why a wrapper: a failed verification is a bare ``RuntimeError`` with details only in
``results``/``output`` (notes P10), and an empty folder or pact passes (P11). Here every
run answers with one line per interaction naming what mismatched (path and field), and no
interaction at all is a failure.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pact import Verifier
from svckit.contract_mode import STATE_PATH

from contracts.pactkit import pact_files

MessageProducer = Callable[..., Any]


@dataclass(frozen=True, slots=True)
class InteractionResult:
    provider: str
    consumer: str
    description: str
    passed: bool
    mismatches: tuple[str, ...] = ()
    kind: str = "http"
    """``http`` or ``message`` (from the pact file's interaction type)."""

    def line(self) -> str:
        mark = "PASS" if self.passed else "FAIL"
        head = f"{mark} {self.consumer} -> {self.provider}: {self.description}"
        return head if self.passed else head + "".join(f"\n      {m}" for m in self.mismatches)


@dataclass(slots=True)
class VerificationReport:
    provider: str
    sources: list[Path]
    interactions: list[InteractionResult] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    output: str = ""

    @property
    def passed(self) -> bool:
        return bool(self.interactions) and not self.errors and all(
            i.passed for i in self.interactions)

    def lines(self) -> list[str]:
        out = [i.line() for i in self.interactions]
        if not self.interactions:
            out.append(f"FAIL {self.provider}: no interactions to verify in "
                       f"{', '.join(map(str, self.sources)) or 'an empty pact folder'}")
        out.extend(f"FAIL {self.provider}: {e}" for e in self.errors)
        return out


def _mismatch_text(raw: dict[str, Any]) -> str:
    path = raw.get("path") or raw.get("key") or ""
    kind = raw.get("type", "mismatch")
    text = raw.get("mismatch") or f"expected {raw.get('expected')!r}, got {raw.get('actual')!r}"
    return f"[{kind}] {path}: {text}".replace("  ", " ")


@contextmanager
def _stdout_silenced() -> Iterator[None]:
    """The FFI prints its report straight to fd 1 (P10) and pact-python's message relay logs
    each request to stderr; the CLI prints its own lines (results keep every detail)."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = [os.dup(1), os.dup(2)]
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 1)
            os.dup2(null.fileno(), 2)
            yield
    finally:
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in saved:
            os.close(fd)


def verify_provider(provider: str, folder: Path, *, url: str | None = None,
                    messages: MessageProducer | None = None,
                    state_url: str | None = None, quiet: bool = False) -> VerificationReport:
    """Verify every pact in ``folder`` whose provider is ``provider``.

    ``url``: the provider's HTTP base URL (HTTP interactions; its contract-mode state endpoint
    is used unless ``state_url`` says otherwise). ``messages``: a message producer function
    (asynchronous interactions), see ``contracts.messages``.
    """
    files = pact_files(folder, provider) if folder.is_dir() else []
    report = VerificationReport(provider=provider, sources=files)
    if not files:
        return report
    verifier = Verifier(provider, host="127.0.0.1")
    if url is not None:
        verifier.add_transport(url=url)
    if messages is not None:
        verifier.message_handler(messages)
    states = state_url or (f"{url}{STATE_PATH}" if url else None)
    if states is not None:
        verifier.state_handler(states, teardown=False, body=True)
    for path in files:
        verifier.add_source(str(path))
    verifier.set_coloured_output(enabled=False).set_request_timeout(15_000)
    try:
        with _stdout_silenced() if quiet else nullcontext():
            verifier.verify()
    except RuntimeError:
        pass  # the details are in results (P10)
    results = verifier.results
    report.output = verifier.output(strip_ansi=True)
    kinds = _kinds_by_description(files)
    for item in results.get("interactionResults", []):
        description = str(item.get("description", "?"))
        mismatch = item.get("mismatch") or {}
        texts: list[str] = []
        if isinstance(mismatch, dict):
            texts = [_mismatch_text(m) for m in mismatch.get("mismatches", [])]
            if not texts and mismatch.get("error"):
                texts = [str(mismatch["error"])]
        passed = item.get("result") in ("OK", True)
        report.interactions.append(InteractionResult(
            provider=provider, consumer=str(item.get("consumer") or "?"),
            description=description, passed=passed and not texts, mismatches=tuple(texts),
            kind=kinds.get(description, "http")))
    for error in results.get("errors", []) or []:
        where = str(error.get("interaction", "")) if isinstance(error, dict) else ""
        if any(where.endswith(f" - {description}") for description in kinds):
            continue  # already reported with its interaction
        report.errors.append(str(error))
    return report


def _kinds_by_description(files: list[Path]) -> dict[str, str]:
    found: dict[str, str] = {}
    for path in files:
        for interaction in json.loads(path.read_text()).get("interactions", []):
            kind = "http" if interaction.get("type", "").endswith("HTTP") else "message"
            found[interaction["description"]] = kind
    return found
