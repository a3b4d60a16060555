"""user-service: registration, login (JWT issue) and the caller's profile."""
