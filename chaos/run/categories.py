"""Failure categories of the report, in the order they are tried (the first match wins).

Why: a reader should see at a glance *why* tests failed (the contract drifted, a breaker
opened, a saga invariant broke, ...) without opening each one. One rule per category, each
a few case-insensitive regular expressions searched in the failure message; the
same rules feed Allure 3 (``report.py`` writes them into the generated config), the
``categories.json`` of the results (Allure 2 readers) and the terminal summary
(``classify``). The patterns use only syntax that Python's ``re`` and JavaScript's
``RegExp`` read alike. docs/report.md lists the wording layers should use so their failures
land in the right place.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

FAILED, BROKEN = "failed", "broken"
ANY_FAILURE = (FAILED, BROKEN)


@dataclass(frozen=True, slots=True)
class Category:
    """A named cause of failure and how to recognise it."""

    name: str
    description: str
    patterns: tuple[str, ...]
    """Searched (not anchored) in the failure message; case-insensitive. Never in the trace:
    pytest's traces quote the test's source, which names statuses and errors it expects."""
    statuses: tuple[str, ...] = ANY_FAILURE

    def matches(self, status: str, message: str) -> bool:
        return status in self.statuses and any(
            re.search(p, message, re.IGNORECASE) for p in self.patterns)

    def allure_rule(self) -> dict[str, Any]:
        """The Allure 3 rule; ``report.py`` turns the pattern strings into ``RegExp(p, "i")``."""
        matchers = [{"statuses": list(self.statuses), "message": p} for p in self.patterns]
        return {"id": slug(self.name), "name": self.name, "matchers": matchers,
                "groupByMessage": False}

    def allure2_entry(self) -> dict[str, Any]:
        """The ``categories.json`` entry (Allure 2 format: one full-match regex)."""
        joined = "|".join(f"(?:{p})" for p in self.patterns)
        return {"name": self.name, "description": self.description,
                "matchedStatuses": list(self.statuses), "messageRegex": f"(?is).*(?:{joined}).*"}


def slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


INFRASTRUCTURE = Category(
    "Infrastructure or preflight",
    "the run could not start or reach what it needs: preflight, platform start, a "
    "component that does not answer, a missing tool",
    (r"\bpreflight\b", r"could not bring the platform up", r"\bnot ready after\b",
     r"exited during start-up", r"is not reachable at", r"binary not found",
     r"\binfrastructure:", r"ConnectError", r"Connection refused", r"ConnectionRefusedError",
     r"not installed in this environment"),
)
FAULT_LEFT_BEHIND = Category(
    "Fault left behind",
    "a test or layer ended with a toxic, a disabled proxy or a paused/stopped process still "
    "in force (the next test would have run against a broken platform)",
    (r"fault left behind", r"faults? (still )?in force after", r"\bnot healed\b"),
)
def _invariant_names() -> tuple[str, ...]:
    """The chaos layer's registered invariants (its journals say ``FAIL <name>: ...``)."""
    try:
        from chaos.invariants import INVARIANTS
    except ImportError:  # pragma: no cover - the chaos layer predates its invariants
        return ()
    return tuple(sorted(INVARIANTS))


_NAMED = "|".join(_invariant_names())

SAGA_INVARIANT = Category(
    "Saga invariant breach",
    "an invariant of the checkout saga broke: an order lost or stuck, charged twice, stock "
    "not conserved or negative, an event unroutable",
    (r"invariant (breach|broken|violated)", r"invariant\b.{0,80}?\b(breach|fail|violat)",
     r"charged (twice|more than once)", r"stock (is )?not conserved", r"conservation",
     r"negative stock", r"\border[s]? (lost|stuck)\b", r"never reached a terminal state",
     r"unroutable", r"double[- ]charge",
     *([rf"\b(FAIL|invariant) ({_NAMED})\b"] if _NAMED else [])),
)
SLO_BREACH = Category(
    "SLO breach",
    "a load gate missed its service level objective (latency percentile, error rate, "
    "throughput)",
    (r"\bSLO\b", r"\bp(50|90|95|99)\b.*\b(exceed|above|over|>)", r"error rate .*(exceed|above|>)",
     r"throughput .*(below|under|<)", r"service level objective"),
)
SERVER_ERROR = Category(
    "Server error",
    "a service answered 500/502 (an unhandled error) where a well-formed answer was due",
    (r"Internal Server Error", r"\bServer error\b", r"\bassert 50[02] (==|in)",
     r"\bHTTP 50[02]\b", r"\"status\": ?50[02]\b", r"\bstatus(_code)?[ =:]+50[02]\b",
     r"\b50[02] Bad Gateway\b", r"\bBad Gateway\b", r"\bserver error:"),
)
TIMEOUT_OR_BREAKER = Category(
    "Timeout or breaker",
    "something did not answer in time, or a circuit breaker / timeout answered instead "
    "(503/504, timed out, deadline missed, breaker open)",
    (r"timed? ?out", r"\bTimeout(Error|Exception)?\b", r"ReadTimeout", r"deadline",
     r"\bbreaker\b", r"circuit (is )?open", r"\bassert 50[34] (==|in)", r"\bHTTP 50[34]\b",
     r"Gateway Time-?out", r"Service Unavailable", r"\btook [0-9.]+ ?m?s\b",
     r"\bwithin [0-9.]+ ?m?s\b"),
)
CONTRACT_DRIFT = Category(
    "Contract drift",
    "an answer or message no longer matches its contract: Pact verification, the OpenAPI "
    "document (Schemathesis), a documented status or schema",
    (r"contract drift", r"\bpact\b.*\b(mismatch|verif|fail)", r"verification failed",
     r"Response violates schema", r"violates (the )?schema", r"Undocumented (HTTP )?status",
     r"Undocumented Content-Type", r"does not serve its document", r"does not match the schema",
     r"mismatch", r"not in the (OpenAPI|schema)", r"Unsupported methods",
     r"schema validation", r"\bFAIL \S+ -> \S+:", r"\bBREAKING\b"),
)
PRODUCT_OTHER = Category(
    "Other wrong answers", "the platform answered, but not as the test expected",
    (r".",), statuses=(FAILED,))
TEST_DEFECT = Category(
    "Test defects", "the test itself broke (an exception outside an assertion)",
    (r".",), statuses=(BROKEN,))

CATEGORIES: tuple[Category, ...] = (
    INFRASTRUCTURE, FAULT_LEFT_BEHIND, SAGA_INVARIANT, SLO_BREACH, SERVER_ERROR,
    TIMEOUT_OR_BREAKER, CONTRACT_DRIFT, PRODUCT_OTHER, TEST_DEFECT,
)
"""Tried in this order: infrastructure first (nothing else is meaningful then), the
catch-alls last."""

PRECISE: tuple[Category, ...] = CATEGORIES[:-2]


def classify(status: str, message: str,
             categories: Iterable[Category] = CATEGORIES) -> Category | None:
    """The category a failure lands in, the same way the report decides it."""
    for category in categories:
        if category.matches(status, message or ""):
            return category
    return None


def allure_rules() -> list[dict[str, Any]]:
    return [category.allure_rule() for category in CATEGORIES]


def allure2_categories() -> list[dict[str, Any]]:
    return [category.allure2_entry() for category in CATEGORIES]
