"""Shared service kit of the Crashcart platform.

Everything the four services have in common lives here so that each service only holds its
own domain: settings, database + migrations, the transactional outbox and inbox consumers,
the resilient HTTP client (timeout, retry, circuit breaker), problem+json errors, metrics,
JSON logs, request ids and JWT handling.
"""
