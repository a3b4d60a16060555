"""payment-service (consumer) <- order-service (publisher): order.expired (compensation),
consumed from ``payment.saga``."""
