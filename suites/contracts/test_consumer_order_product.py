"""Consumer pact tests of contracts/order_product/ (collected here so `pytest suites` runs them)."""

from contracts.order_product.test_consumer import *  # noqa: F403
