"""Consumer pact tests of contracts/storefront_order/ (collected here so `pytest suites` runs them)."""

from contracts.storefront_order.test_consumer import *  # noqa: F403
