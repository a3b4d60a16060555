"""End-to-end tests of the platform through the gateway: the public API as a specification."""
