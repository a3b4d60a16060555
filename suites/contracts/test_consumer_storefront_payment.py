"""Consumer pact tests of contracts/storefront_payment/ (collected here so `pytest suites` runs them)."""

from contracts.storefront_payment.test_consumer import *  # noqa: F403
