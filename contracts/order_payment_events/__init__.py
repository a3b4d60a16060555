"""order-service (consumer) <- payment-service (publisher): payment.completed (approved and
declined), consumed from ``order.saga``."""
