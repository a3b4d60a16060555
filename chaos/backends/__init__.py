"""Backends that run the topology: local processes (``local``) and docker compose
(``compose``), sharing the gateway renderer (``gateway``) and generated artifacts."""
