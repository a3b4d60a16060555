"""Planted failures for the report's own tests: copied into a temporary directory and run
there (file names without the ``test_`` prefix, so the real suites never collect them)."""
