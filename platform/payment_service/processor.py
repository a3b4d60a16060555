"""The simulated card processor, with Stripe-like test tokens and optional latency."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Literal

Outcome = Literal["APPROVED", "DECLINED"]
TOKENS: dict[str, Outcome] = {"tok_visa": "APPROVED", "tok_chargeDeclined": "DECLINED"}


class UnknownToken(ValueError):
    pass


async def charge(token: str, amount: Decimal, currency: str, *, latency_ms: int) -> Outcome:
    """Decide a charge; the latency stands in for a real processor's round trip."""
    if latency_ms:
        await asyncio.sleep(latency_ms / 1000)
    try:
        return TOKENS[token]
    except KeyError:
        raise UnknownToken(f"unknown payment token {token!r}") from None
