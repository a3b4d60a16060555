"""Provider states of this message pair: parameters the producer builds the event from."""

from __future__ import annotations

from contracts.statekit import described_by_params

STATES = {
    "order {order_id} of user {user_id} passed its deadline ({amount})": described_by_params,
    "order {order_id} of user {user_id} failed to pay": described_by_params,
    "order {order_id} of user {user_id} was paid": described_by_params,
    "order {order_id} was placed by user {user_id} for {quantity} of product {product_id}": described_by_params,
}
