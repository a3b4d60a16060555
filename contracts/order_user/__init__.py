"""order-service (consumer) -> user-service (provider): the user look-up before an order."""
