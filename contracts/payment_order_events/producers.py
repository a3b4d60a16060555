"""order-service's side: order.expired built by its real payload builder."""

from __future__ import annotations

from contracts.product_order_events.producers import PRODUCERS as ORDER_EVENTS

PRODUCERS = {"an order.expired event": ORDER_EVENTS["an order.expired event"]}
