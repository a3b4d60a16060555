"""Under a dependency fault the public API fails well: in time, 503/504 problem documents,
never a 500, never a hang. Reads the answers the workload saw through the gateway."""

from __future__ import annotations

from collections import Counter
from typing import Any, ClassVar

from chaos.invariants.base import CheckContext, register

PROBLEM_JSON = "application/problem+json"
DECLARED_FAILURES = (503, 504)


@register
class ApiFailsWell:
    name: ClassVar[str] = "api_fails_well"
    guards: ClassVar[str] = ("every answer of the public API comes within its time budget; "
                             "failures are declared 503/504 problem documents, never a 500 "
                             "or a hang")
    reads: ClassVar[tuple[str, ...]] = ("workload HTTP answers through the gateway",)

    def evaluate(self, ctx: CheckContext) -> tuple[list[str], dict[str, Any]]:
        budget = ctx.bounds.api_budget_s
        start = min((s.at for s in ctx.samples), default=0.0)
        breaches = []
        for s in ctx.samples:
            where = f"{s.method} {s.path} at +{s.at - start:.1f}s"
            if s.status == 0:
                breaches.append(f"{where}: no answer after {s.elapsed_s:.1f}s ({s.error})")
                continue
            if s.elapsed_s > budget:
                breaches.append(f"{where}: answered {s.status} after {s.elapsed_s:.1f}s "
                                f"(budget {budget:.0f}s)")
            if s.status >= 500 and s.status not in DECLARED_FAILURES:
                breaches.append(f"{where}: answered {s.status}")
            elif s.status in DECLARED_FAILURES and \
                    s.content_type.split(";")[0].strip() != PROBLEM_JSON:
                breaches.append(f"{where}: {s.status} is not a problem document "
                                f"({s.content_type or 'no content type'})")
        counts = Counter(s.status for s in ctx.samples)
        slowest = max((s.elapsed_s for s in ctx.samples), default=0.0)
        return breaches, {"answers": len(ctx.samples),
                          "by_status": {str(k): v for k, v in sorted(counts.items())},
                          "slowest_s": round(slowest, 3)}
