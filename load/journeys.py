"""The shoppers' journeys through the gateway, as Locust users (FastHttpUser).

Why: the load that matters is what buyers do: mostly browsing and searching, some checkouts
(approved, declined, asking beyond stock), and looking at their orders and payments. Each
journey is one task; ``JOURNEY_WEIGHTS`` is the mix (Locust picks a task with probability
weight / sum). A shopper registers and logs in once (``on_start``), reuses its token and
renews it on 401. Every checkout is followed to its terminal state by bounded polling; the
saga's accept → terminal time becomes its own statistics entry (``SAGA``).
"""

from __future__ import annotations

import random
import time
from typing import Any

from locust import FastHttpUser, between, constant, task

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
        order = self.session.place_order([{"product_id": product_id, "quantity": quantity}],
                                         payment_token)
        if order is None:
            return
        accepted_at = time.monotonic()
        self.recent_order_ids = [int(order["id"]), *self.recent_order_ids[:4]]
        self.session.follow_order(order, accepted_at, expected, timeout_s=self.saga_timeout_s,
                                  poll_interval_s=self.poll_interval_s)


class Shopper(StorefrontUser):
    """A buyer on the storefront: the weighted mix of every journey."""

    # ---- catalog ---------------------------------------------------------------------------
    @task(JOURNEY_WEIGHTS["browse_catalog"])
    def browse_catalog(self) -> None:
        """A page of the catalog (random offset), then one product of it."""
        pages = max(1, self.catalog.seeded_total // PAGE_SIZE)
        offset = random.randrange(pages) * PAGE_SIZE
        with self.client.get(f"/api/v1/products?limit={PAGE_SIZE}&offset={offset}",
                             name="/api/v1/products", catch_response=True) as response:
            items = _items(response)
        ids = [int(item["id"]) for item in items] or list(self.catalog.seeded_ids)
        if ids:
            self.client.get(f"/api/v1/products/{random.choice(ids)}",
                            name="/api/v1/products/{id}")

    @task(JOURNEY_WEIGHTS["search_catalog"])
    def search_catalog(self) -> None:
        term = random.choice(SEARCH_TERMS)
        self.client.get(f"/api/v1/products?q={term}&limit={PAGE_SIZE}",
                        name="/api/v1/products?q=")

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
        self.session.get_json("/api/v1/orders?limit=10", "/api/v1/orders")
        if self.recent_order_ids:
            order_id = random.choice(self.recent_order_ids)
            self.session.get_json(f"/api/v1/payments?order_id={order_id}",
                                  "/api/v1/payments?order_id=")


class CheckoutBuyer(StorefrontUser):
    """Only approved checkouts, back to back: the capacity and benchmark load (checkouts/s)."""

    wait_time = constant(0)

    @task
    def checkout(self) -> None:
        self.checkout_approved()


def _items(response: Any) -> list[dict[str, Any]]:
    if response.status_code != 200:
        return []
    try:
        return list(response.json()["items"])
    except (ValueError, KeyError, TypeError):
        response.failure("catalog page without items")
        return []
