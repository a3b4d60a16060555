"""Test-side helpers for talking to the platform through its public API (clients, factories, waiters)."""
