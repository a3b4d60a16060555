"""product-service (consumer) <- order-service (publisher): order.created, order.paid,
order.payment_failed on ``crashcart.events``, consumed from ``product.saga``."""
