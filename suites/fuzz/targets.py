"""What the suite fuzzes: one entry per (service, identity, operations) run.

Every run uses the service's own OpenAPI document and all checks; the test runs each target
twice, against the service's port and through the gateway.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Operations with these tags are service-to-service only; the gateway does not route them.
GATEWAY_HIDDEN_TAGS = frozenset({"internal"})


@dataclass(frozen=True, slots=True)
class FuzzTarget:
    service: str
    #: WFC identity the run is pinned to (see identities.py): `alice`, `bob` or `admin`.
    user: str
    #: Examples per operation and phase against the service's port (the run's time budget);
    #: gateway runs take a third: they re-prove the same document through one more hop.
    max_examples: int
    #: Restrict the run to these operations (empty: every operation of the document).
    operation_ids: tuple[str, ...] = ()
    #: Schemathesis warnings this run must raise (and no others).
    expected_warnings: frozenset[str] = field(default_factory=frozenset)

    def examples_for(self, route: str) -> int:
        return self.max_examples if route == "direct" else max(8, self.max_examples // 3)

    @property
    def id(self) -> str:
        scope = "+".join(self.operation_ids) if self.operation_ids else "all"
        return f"{self.service}-as-{self.user}-{scope}"


# Budgets keep the whole default fuzzing tier (this suite, the planted bugs, the storefront
# walk, the fault runs) near 4 minutes; `crashcart fuzz --deep` is the 10,000-case campaign.
TARGETS: tuple[FuzzTarget, ...] = (
    FuzzTarget("user", user="alice", max_examples=25),
    # The admin exercises the whole catalog API, including create -> get -> patch links.
    FuzzTarget("product", user="admin", max_examples=25),
    # A normal user on the admin operations: every valid request must be a declared 403,
    # which Schemathesis reports as "missing_auth" (only 401/403 answers) — required here.
    FuzzTarget("product", user="alice", max_examples=10,
               operation_ids=("createProduct", "updateProduct"),
               expected_warnings=frozenset({"missing_auth"})),
    FuzzTarget("order", user="alice", max_examples=20),
    FuzzTarget("payment", user="alice", max_examples=60),
)
