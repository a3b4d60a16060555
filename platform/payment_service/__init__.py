"""payment-service: the simulated card processor and the payments of the saga."""
