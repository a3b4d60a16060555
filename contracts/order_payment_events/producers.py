"""payment-service's side: payment.completed built by its real payload builder."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from payment_service import events

from contracts.messages import Produced


def _completed(params: dict[str, Any]) -> Produced:
    return events.PAYMENT_COMPLETED, events.payment_completed(
        int(params["order_id"]), int(params.get("payment_id", 1)), str(params["outcome"]),
        Decimal(str(params["amount"])), "EUR")


PRODUCERS = {
    "a payment.completed event for an approved charge": _completed,
    "a payment.completed event for a declined charge": _completed,
}
