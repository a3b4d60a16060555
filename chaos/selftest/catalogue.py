"""The self-test's catalogue: realistic platform defects, each a small patch to a copy.

Why data and not code: the command, the cheap apply-check test and the docs table all read
the same list; a patch is exact-snippet replacement (``Patch``), so when an engineer changes
the code a defect targets, the apply check fails loudly instead of the defect silently
planting nothing. ``expected`` is the layer the author thought would catch the defect (for
the docs); the result always comes from running the layers.
"""

from __future__ import annotations

from dataclasses import dataclass

CATEGORIES: tuple[str, ...] = (
    "missing timeout", "retries without backoff", "non-idempotent retry",
    "ack before commit", "consumer without dedupe", "saga step without compensation",
    "health check that lies", "breaker that never opens", "renamed response field",
    "ownership check dropped", "unvalidated input", "oversell", "idempotency conflict",
    "error mapping", "authentication", "tracing",
)
"""The categories named in issue 10 first, then the project's own additions."""

ISSUE_CATEGORIES: tuple[str, ...] = CATEGORIES[:11]


@dataclass(frozen=True, slots=True)
class Patch:
    """Replace ``old`` (present exactly once) by ``new`` in ``file`` (relative to platform/)."""

    file: str
    old: str
    new: str


@dataclass(frozen=True, slots=True)
class Defect:
    id: str
    category: str
    description: str
    patches: tuple[Patch, ...]
    expected: tuple[str, ...]
    """Layers the author expects to catch it, likeliest first: the order the defect meets
    them before the others (``--cost-order`` ignores it); never the verdict."""


DEFECTS: tuple[Defect, ...] = (
    Defect("http-no-timeout", "missing timeout",
           "order-service's calls to user/product-service have no timeout and no budget",
           (Patch("svckit/http_client.py",
                  "self.timeout = aiohttp.ClientTimeout(total=timeout, sock_connect=min(1.0, timeout))",
                  "self.timeout = aiohttp.ClientTimeout(total=None)"),
            Patch("svckit/http_client.py",
                  "async with asyncio.timeout(self.budget_s):",
                  "async with asyncio.timeout(None):")),
           ("unit", "platform", "chaos")),
    Defect("gateway-no-timeout", "missing timeout",
           "nginx waits an hour for a silent upstream instead of the topology's read timeout",
           (Patch("gateway/nginx.conf.template",
                  "proxy_read_timeout {{ read_timeout }};",
                  "proxy_read_timeout 3600s;"),),
           ("runtime", "security", "platform")),
    Defect("retry-no-backoff", "retries without backoff",
           "GET retries fire back to back (no exponential wait, no jitter)",
           (Patch("svckit/http_client.py",
                  "wait=wait_exponential_jitter(multiplier=0.05, max=0.5, jitter=0.05),",
                  "wait=lambda _state: 0.0,"),),
           ("unit",)),
    Defect("charge-key-per-attempt", "non-idempotent retry",
           "payment-service sends a fresh processor idempotency key on every delivery attempt, "
           "so a redelivered inventory.reserved charges again",
           (Patch("payment_service/events.py",
                  "return await processor.charge(idempotency_key(order_id), order_id,",
                  "return await processor.charge(f\"{idempotency_key(order_id)}-{event.attempt}\""
                  ", order_id,"),),
           ("platform",)),
    Defect("ack-before-commit", "ack before commit",
           "the saga consumer acks a delivery on receipt and only logs a failed handler "
           "(no retry, no dead letter)",
           (Patch("svckit/consumer.py",
                  "        try:\n            with collecting() as fresh:\n"
                  "                duplicate = await self.deliver(event)\n"
                  "        except Exception as exc:\n",
                  "        await message.ack()\n        try:\n"
                  "            with collecting() as fresh:\n"
                  "                duplicate = await self.deliver(event)\n"
                  "        except Exception as exc:\n"
                  "            log.error(\"handler failed for %s: %r\", event.event_id, exc)\n"
                  "            return\n"
                  "        if False:\n"),
            Patch("svckit/consumer.py",
                  "        await message.ack()\n        CONSUMED.labels(self.spec.name, "
                  "\"duplicate\" if duplicate else \"processed\").inc()",
                  "        CONSUMED.labels(self.spec.name, "
                  "\"duplicate\" if duplicate else \"processed\").inc()")),
           ("platform", "chaos")),
    Defect("inbox-no-dedupe", "consumer without dedupe",
           "the inbox insert no longer detects a seen event id: every redelivery is applied",
           (Patch("svckit/consumer.py",
                  "\" ON CONFLICT (event_id) DO NOTHING\")",
                  "\" ON CONFLICT (event_id) DO UPDATE SET queue = EXCLUDED.queue\")"),),
           ("platform", "contracts")),
    Defect("no-release-compensation", "saga step without compensation",
           "product-service has no handler for order.payment_failed: a declined order's "
           "reserved stock is never put back on sale",
           (Patch("product_service/events.py",
                  "        \"order.payment_failed\": on_order_payment_failed,\n", ""),),
           ("platform", "contracts", "chaos")),
    Defect("ready-always-200", "health check that lies",
           "/health/ready answers ready whatever the database, broker and consumers say",
           (Patch("svckit/health.py",
                  "ok = all(v == \"up\" for v in checks.values())",
                  "ok = True"),),
           ("platform", "unit")),
    Defect("breaker-never-opens", "breaker that never opens",
           "the circuit breaker forgets to count failures, so it never opens",
           (Patch("svckit/breaker.py",
                  "        self._failures += 1\n", ""),),
           ("unit", "platform")),
    Defect("product-currency-renamed", "renamed response field",
           "product-service's product document renames `currency` to `currency_code`",
           (Patch("product_service/api.py", "    currency: str\n", "    currency_code: str\n"),
            Patch("product_service/api.py", "currency=row[\"currency\"], stock=row[\"stock\"])",
                  "currency_code=row[\"currency\"], stock=row[\"stock\"])")),
           ("platform", "contracts", "fuzz")),
    Defect("order-owner-filter-dropped", "ownership check dropped",
           "GET /orders/{id} no longer filters by the caller: anyone reads anyone's order",
           (Patch("order_service/repository.py",
                  "return await _one_order(pool, \"id = $1 AND user_id = $2\", order_id, user_id)",
                  "return await _one_order(pool, \"id = $1 AND $2::bigint > 0\", order_id,"
                  " user_id)"),),
           ("platform", "fuzz", "security")),
    Defect("product-limit-unbounded", "unvalidated input",
           "the catalogue's `limit` query parameter loses its 1..100 bounds",
           (Patch("product_service/api.py",
                  "limit: Annotated[text_int(1, 100), Query()] = 20,",
                  "limit: Annotated[int, Query()] = 20,"),),
           ("platform", "fuzz", "contracts")),
    Defect("reserve-without-stock-check", "oversell",
           "reserving stock no longer checks that enough is available",
           (Patch("product_service/events.py",
                  "if stock.get(product_id, -1) < wanted[product_id]:",
                  "if product_id not in stock:"),),
           ("platform", "chaos")),
    Defect("idempotency-body-ignored", "idempotency conflict",
           "a reused Idempotency-Key with a different body replays the first order "
           "instead of answering 409",
           (Patch("order_service/api.py",
                  "if existing[\"request_hash\"] != digest:",
                  "if existing[\"request_hash\"] != digest and False:"),),
           ("platform", "fuzz")),
    Defect("client-4xx-as-failure", "error mapping",
           "svckit's client treats every 4xx as a dependency failure (an unknown product "
           "becomes 503 and trips the breaker)",
           (Patch("svckit/http_client.py",
                  "if response.status_code >= 500:",
                  "if response.status_code >= 400:"),),
           ("platform", "contracts")),
    Defect("jwt-expiry-ignored", "authentication",
           "tokens are accepted after their `exp`",
           (Patch("svckit/auth.py",
                  "options={\"require\": [\"exp\", \"sub\"]})",
                  "options={\"require\": [\"exp\", \"sub\"], \"verify_exp\": False})"),
            Patch("svckit/auth.py",
                  "    return time.time() < expires_at",
                  "    return True")),
           ("security",)),
    Defect("amqp-request-id-dropped", "tracing",
           "events leave the outbox without the request id of the request that caused them",
           (Patch("svckit/outbox.py",
                  "return {REQUEST_ID_HEADER: current_request_id() or \"\"}",
                  "return {REQUEST_ID_HEADER: \"\"}"),),
           ("platform",)),
)


class UnknownDefect(ValueError):
    """A defect id that is not in the catalogue."""


def by_id(defect_id: str) -> Defect:
    for defect in DEFECTS:
        if defect.id == defect_id:
            return defect
    raise UnknownDefect(f"unknown defect {defect_id!r}; defects: "
                        + ", ".join(d.id for d in DEFECTS))
