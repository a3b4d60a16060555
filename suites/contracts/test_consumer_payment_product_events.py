"""Consumer pact tests of contracts/payment_product_events/ (collected here so `pytest suites` runs them)."""

from contracts.payment_product_events.test_consumer import *  # noqa: F403
