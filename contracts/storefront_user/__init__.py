"""storefront (the harness's typed client, chaos.storefront) -> user-service's public API."""
