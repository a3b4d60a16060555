"""order-service (consumer) -> product-service (provider): pricing an order's products."""
