"""The journey mixes: the weights Locust runs are the declared ones, and nothing more."""

from __future__ import annotations

from collections import Counter

from load.journeys import JOURNEY_WEIGHTS, CheckoutBuyer, Shopper, StorefrontUser


def test_the_shopper_runs_every_journey_with_its_declared_weight() -> None:
    assert Counter(task.__name__ for task in Shopper.tasks) == JOURNEY_WEIGHTS


def test_the_checkout_buyer_only_checks_out() -> None:
    # Locust adds a subclass's tasks to its bases' tasks: the mixes must not inherit each other
    assert [task.__name__ for task in CheckoutBuyer.tasks] == ["checkout"]
    assert StorefrontUser.abstract and not StorefrontUser.tasks
