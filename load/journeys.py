"""The shoppers' journeys through the gateway, as Locust users (FastHttpUser).

Why: the load that matters is what buyers do: mostly browsing and searching, some checkouts
(approved, declined, asking beyond stock), and looking at their orders and payments. Each
journey is one task; ``JOURNEY_WEIGHTS`` is the mix (Locust picks a task with probability
weight / sum). A shopper registers and logs in once (``on_start``), reuses its token and
renews it on 401. Every checkout is followed to its terminal state by bounded polling; the
saga's accept → terminal time becomes its own statistics entry (``SAGA``). Every request is
a storefront call (``chaos.storefront.Calls``) sent through the session, so the journeys
send exactly what the storefront pacts describe.
"""

from __future__ import annotations

import random
import time

from locust import FastHttpUser, between, constant, task

from chaos.storefront import Calls, OrderLine
from load.data import (
    APPROVED_TOKEN,
    BEYOND_STOCK_QUANTITY,
    DECLINED_TOKEN,
    PAGE_SIZE,
    SEARCH_TERMS,
    Catalog,
    new_buyer,
)
from load.run_context import catalog_of
from load.session import BuyerSession

JOURNEY_WEIGHTS: dict[str, int] = {
    "browse_catalog": 6,
    "search_catalog": 3,
    "checkout_approved": 4,
    "checkout_declined": 1,
    "checkout_beyond_stock": 1,
    "my_orders_and_payments": 2,
}
"""Journey → task weight (registration and login happen once per shopper, in on_start)."""


class StorefrontUser(FastHttpUser):
    """What every buyer has: an account, this run's catalog, and the checkout steps.

    No tasks here: Locust adds a subclass's tasks to its bases' tasks, so each journey mix
    derives from this class, never from another mix.
    """

    abstract = True
    wait_time = between(0.2, 1.0)
    network_timeout = 10.0
    connection_timeout = 5.0
    poll_interval_s: float = 0.1
    """How often a checkout's order is polled (bounds the saga time's resolution)."""
    saga_timeout_s: float = 30.0
    """How long a checkout is followed before its saga counts as incomplete."""

    def on_start(self) -> None:
        self.catalog: Catalog = catalog_of(self.environment)
        self.session = BuyerSession(self.client, new_buyer())
        self.recent_order_ids: list[int] = []
        self.session.ensure()

    def checkout_approved(self) -> None:
        self._checkout(self.catalog.plenty_id, 1, APPROVED_TOKEN, expected="PAID")

    def _checkout(self, product_id: int, quantity: int, payment_token: str, *,
                  expected: str) -> None:
        if not self.session.ensure():
            return
        placed = self.session.place_order([OrderLine(product_id, quantity)], payment_token)
        if placed is None:
            return
        accepted_at = time.monotonic()
        self.recent_order_ids = [placed.order.id, *self.recent_order_ids[:4]]
        self.session.follow_order(placed.order, accepted_at, expected,
                                  timeout_s=self.saga_timeout_s,
                                  poll_interval_s=self.poll_interval_s)


class Shopper(StorefrontUser):
    """A buyer on the storefront: the weighted mix of every journey."""

    # ---- catalog ---------------------------------------------------------------------------
    @task(JOURNEY_WEIGHTS["browse_catalog"])
    def browse_catalog(self) -> None:
        """A page of the catalog (random offset), then one product of it."""
        pages = max(1, self.catalog.seeded_total // PAGE_SIZE)
        offset = random.randrange(pages) * PAGE_SIZE
        _, page = self.session.send(Calls.list_products(limit=PAGE_SIZE, offset=offset))
        ids = [p.id for p in page.items] if page else []
        ids = ids or list(self.catalog.seeded_ids)
        if ids:
            self.session.send(Calls.get_product(random.choice(ids)))

    @task(JOURNEY_WEIGHTS["search_catalog"])
    def search_catalog(self) -> None:
        term = random.choice(SEARCH_TERMS)
        self.session.send(Calls.list_products(q=term, limit=PAGE_SIZE))

    # ---- checkouts -------------------------------------------------------------------------
    @task(JOURNEY_WEIGHTS["checkout_approved"])
    def checkout_approved(self) -> None:
        super().checkout_approved()

    @task(JOURNEY_WEIGHTS["checkout_declined"])
    def checkout_declined(self) -> None:
        self._checkout(self.catalog.plenty_id, 1, DECLINED_TOKEN, expected="PAYMENT_FAILED")

    @task(JOURNEY_WEIGHTS["checkout_beyond_stock"])
    def checkout_beyond_stock(self) -> None:
        self._checkout(self.catalog.scarce_id, BEYOND_STOCK_QUANTITY, APPROVED_TOKEN,
                       expected="REJECTED")

    # ---- account ---------------------------------------------------------------------------
    @task(JOURNEY_WEIGHTS["my_orders_and_payments"])
    def my_orders_and_payments(self) -> None:
        if not self.session.ensure():
            return
        self.session.get(Calls.list_orders(limit=10))
        if self.recent_order_ids:
            self.session.get(Calls.payments(order_id=random.choice(self.recent_order_ids)))


class CheckoutBuyer(StorefrontUser):
    """Only approved checkouts, back to back: the capacity and benchmark load (checkouts/s)."""

    wait_time = constant(0)

    @task
    def checkout(self) -> None:
        self.checkout_approved()

