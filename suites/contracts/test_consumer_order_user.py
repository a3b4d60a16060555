"""Consumer pact tests of contracts/order_user/ (collected here so `pytest suites` runs them)."""

from contracts.order_user.test_consumer import *  # noqa: F403
