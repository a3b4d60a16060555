"""Consumer-driven Pact contracts between the services (HTTP and the saga's RabbitMQ
messages) and their provider verification. Not written yet: the services' event payload
builders (``<svc>_service.events``) and ``svckit.outbox.build_message`` are where the
message contracts will attach (ARCHITECTURE.md)."""
