"""The simulated card processor: Stripe-like test tokens, optional latency, idempotency keys
and a ledger of its own (`processor_ledger`).

It stands for an external system, so it is never called inside the payment transaction:
each ledger write is one autocommitted statement, and no database connection is held while
the simulated round trip (`PROCESSOR_LATENCY_MS`) runs. A charge with a key already in the
ledger returns the recorded outcome and charges nothing (the retry after a failed commit, or
a redelivered event whose payment is already recorded).
"""

from __future__ import annotations

import asyncio
import contextlib
from decimal import Decimal
from typing import Any, Literal

import asyncpg
from prometheus_client import Counter

Outcome = Literal["APPROVED", "DECLINED"]
TOKENS: dict[str, Outcome] = {"tok_visa": "APPROVED", "tok_chargeDeclined": "DECLINED"}

CHARGES = Counter("crashcart_processor_charges_total",
                  "Charges the processor decided (new idempotency keys)", ["outcome"])
REPLAYS = Counter("crashcart_processor_replays_total",
                  "Requests answered from the ledger (a known idempotency key): no charge")
VOIDS = Counter("crashcart_processor_voids_total",
                "Keys closed before any charge (an expired order): a later charge declines")


class UnknownToken(ValueError):
    pass


def idempotency_key(order_id: int) -> str:
    return f"order-{order_id}"


class Processor:
    """The processor simulator over its ledger table (in payment-service's database)."""

    def __init__(self, pool: asyncpg.Pool, *, latency_ms: int,
                 db_slots: asyncio.Semaphore | None = None) -> None:
        self.pool = pool
        self.latency_ms = latency_ms
        self.db_slots = db_slots
        """Shared with the service's consumers: the ledger's statements count against the
        connections consumers may use (never the simulated round trip)."""

    async def _fetchval(self, sql: str, *args: Any) -> Any:
        async with self.db_slots or contextlib.nullcontext():
            return await self.pool.fetchval(sql, *args)

    async def recorded(self, key: str) -> Outcome | None:
        """The outcome recorded under `key`, if any."""
        outcome = await self._fetchval(
            "SELECT outcome FROM processor_ledger WHERE idempotency_key = $1", key)
        return outcome  # type: ignore[no-any-return]

    async def charge(self, key: str, order_id: int, token: str, amount: Decimal,
                     currency: str) -> Outcome:
        """Charge once per key; a known key returns its recorded outcome (no charge).

        The ledger insert itself tells a new key from a known one (one statement, not a
        look-up first); the simulated round trip comes before it, replays included."""
        outcome = TOKENS.get(token)
        if outcome is None:
            known = await self.recorded(key)
            if known is not None:
                REPLAYS.inc()
                return known
            raise UnknownToken(f"unknown payment token {token!r}")
        if self.latency_ms:
            await asyncio.sleep(self.latency_ms / 1000)
        written = await self._record(key, order_id, amount, currency, outcome)
        if written is None:  # a concurrent request with the same key won
            REPLAYS.inc()
            return await self._must_have(key)
        CHARGES.labels(outcome).inc()
        return outcome

    async def void(self, key: str, order_id: int, amount: Decimal, currency: str) -> Outcome:
        """Close `key`: with no charge yet, record a DECLINED one so a late charge cannot
        happen; returns the outcome now recorded (APPROVED if it was charged before)."""
        written = await self._record(key, order_id, amount, currency, "DECLINED")
        if written is None:
            REPLAYS.inc()
            return await self._must_have(key)
        VOIDS.inc()
        return "DECLINED"

    async def _record(self, key: str, order_id: int, amount: Decimal, currency: str,
                      outcome: Outcome) -> str | None:
        written = await self._fetchval(
            "INSERT INTO processor_ledger (idempotency_key, order_id, amount, currency, outcome)"
            " VALUES ($1, $2, $3, $4, $5) ON CONFLICT (idempotency_key) DO NOTHING"
            " RETURNING outcome", key, order_id, amount, currency, outcome)
        return written  # type: ignore[no-any-return]

    async def _must_have(self, key: str) -> Outcome:
        outcome = await self.recorded(key)
        if outcome is None:  # pragma: no cover - rows are never deleted
            raise RuntimeError(f"processor ledger lost key {key}")
        return outcome
