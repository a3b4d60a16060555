"""The registry of contract pairs: one folder per consumer -> provider pair under contracts/.

Everything else (which state modules a provider loads in contract-test mode, the docs table,
the CLI's listing) derives from this list, so adding a pair is adding a folder and a line.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from contracts.pactkit import CONTRACTS_DIR, ORDER, PAYMENT, PRODUCT, STOREFRONT, USER


@dataclass(frozen=True, slots=True)
class Pair:
    folder: str
    consumer: str
    provider: str
    kind: Literal["http", "message"]
    guards: str
    """One line: what this pair's contract protects."""

    @property
    def states_module(self) -> str | None:
        """``contracts.<folder>.states`` when the folder has provider-state handlers."""
        exists = (CONTRACTS_DIR / self.folder / "states.py").is_file()
        return f"contracts.{self.folder}.states" if exists else None

    @property
    def feature(self) -> str:
        """The Allure feature of the pair (its consumer tests use the same)."""
        if self.kind == "message":
            return f"{self.consumer} <- {self.provider} (events)"
        return f"{self.consumer} -> {self.provider}"


PAIRS: tuple[Pair, ...] = (
    Pair("order_user", ORDER, USER, "http", "the caller of an order still exists"),
    Pair("order_product", ORDER, PRODUCT, "http", "order-service prices items from the catalog"),
    Pair("storefront_user", STOREFRONT, USER, "http", "register, login, profile"),
    Pair("storefront_product", STOREFRONT, PRODUCT, "http", "browse and administer the catalog"),
    Pair("storefront_order", STOREFRONT, ORDER, "http", "place, read and list orders"),
    Pair("storefront_payment", STOREFRONT, PAYMENT, "http", "the caller's payments"),
    Pair("product_order_events", PRODUCT, ORDER, "message",
         "order.created / order.paid / order.payment_failed / order.expired drive reservations"),
    Pair("payment_product_events", PAYMENT, PRODUCT, "message",
         "inventory.reserved triggers exactly one charge; inventory.expired closes it"),
    Pair("order_product_events", ORDER, PRODUCT, "message",
         "inventory.rejected ends an order REJECTED"),
    Pair("order_payment_events", ORDER, PAYMENT, "message",
         "payment.completed ends an order PAID or PAYMENT_FAILED"),
)


def pairs_of_provider(provider: str, kind: str | None = None) -> list[Pair]:
    return [p for p in PAIRS if p.provider == provider and (kind is None or p.kind == kind)]
