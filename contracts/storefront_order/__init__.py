"""storefront (chaos.storefront) -> order-service's public order API."""
