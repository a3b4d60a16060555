"""Consumer pact tests of contracts/order_payment_events/ (collected here so `pytest suites` runs them)."""

from contracts.order_payment_events.test_consumer import *  # noqa: F403
