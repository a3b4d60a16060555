"""Consumer-driven Pact contracts between the services (HTTP and the saga's RabbitMQ messages)
and their verification: one folder per consumer -> provider pair (``pairs.py``), the shared
kit (``pactkit``, ``fixtures``, ``messages``, ``statekit``), contract-mode providers
(``providers``), the verifier wrapper (``verify``), drift checks (``drift``,
``openapi_review``, ``asyncapi.yaml``), the broker round trip (``roundtrip``) and the Pact
Broker client (``broker``). See docs/contracts.md."""
