"""Consumer pact tests of contracts/storefront_user/ (collected here so `pytest suites` runs them)."""

from contracts.storefront_user.test_consumer import *  # noqa: F403
