"""storefront (chaos.storefront) -> product-service's public catalog API."""
