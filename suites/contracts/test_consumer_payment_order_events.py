"""Consumer pact tests of contracts/payment_order_events/ (collected here so `pytest suites` runs them)."""

from contracts.payment_order_events.test_consumer import *  # noqa: F403
