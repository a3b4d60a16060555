"""order-service: orders, Idempotency-Key, and the saga's state machine."""
