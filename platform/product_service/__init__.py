"""product-service: the catalog, inventory and stock reservations of the checkout saga."""
