"""storefront (chaos.storefront) -> payment-service's public payment API."""
