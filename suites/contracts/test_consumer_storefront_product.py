"""Consumer pact tests of contracts/storefront_product/ (collected here so `pytest suites` runs them)."""

from contracts.storefront_product.test_consumer import *  # noqa: F403
