"""Provider states of this message pair: parameters the producer builds the event from."""

from __future__ import annotations

from contracts.statekit import described_by_params

STATES = {
    "order {order_id} of user {user_id} expired holding stock ({amount})": described_by_params,
    "stock for order {order_id} of user {user_id} was reserved ({amount}, {payment_token})": described_by_params,
}
