"""Messaging invariants: outboxes drain; dead letters are accounted for and shown; no event
published during the run was unroutable."""

from __future__ import annotations

from typing import Any, ClassVar

from chaos.invariants.base import TERMINAL, CheckContext, register, until
from chaos.invariants.sources import UNROUTABLE_QUEUE, QueuedMessage, dead_letter_queues

OUTBOX_SQL = ("SELECT count(*) AS pending, min(id) AS oldest_id,"
              " (array_agg(event_type ORDER BY id))[1] AS oldest_type,"
              " extract(epoch FROM now() - min(created_at)) AS oldest_age_s"
              " FROM outbox WHERE published_at IS NULL")


def outbox_backlog(ctx: CheckContext) -> dict[str, dict[str, Any]]:
    """Pending outbox rows per service database."""
    return {svc: ctx.sources.rows(svc, OUTBOX_SQL)[0] for svc in ctx.topology.services}


def queued_since_baseline(ctx: CheckContext, queue: str, key: str
                          ) -> list[QueuedMessage] | None:
    messages = ctx.sources.peek(queue)
    if messages is None:
        return None
    seen = set(ctx.baseline.get(key, {}).get(queue, []))
    return [m for m in messages if m.message_id not in seen]


def broker_baseline(ctx: CheckContext) -> dict[str, Any]:
    """Message ids already parked before the run (so a run is judged by what it added)."""
    result: dict[str, Any] = {"dead_letters": {}, "unroutable": {}}
    for queue in dead_letter_queues():
        result["dead_letters"][queue] = [m.message_id for m in ctx.sources.peek(queue) or []]
    result["unroutable"][UNROUTABLE_QUEUE] = [
        m.message_id for m in ctx.sources.peek(UNROUTABLE_QUEUE) or []]
    return result


@register
class OutboxDrained:
    name: ClassVar[str] = "outbox_drained"
    guards: ClassVar[str] = "every service's outbox is published within the bound"
    reads: ClassVar[tuple[str, ...]] = ("<every service>.outbox",)

    def evaluate(self, ctx: CheckContext) -> tuple[list[str], dict[str, Any]]:
        deadline = ctx.cleared_at + ctx.bounds.drain_within_s

        def once() -> tuple[list[str], dict[str, Any]]:
            backlog = outbox_backlog(ctx)
            breaches = [
                f"{svc} outbox ({ctx.sources.database(svc)}): {row['pending']} events pending, "
                f"oldest {row['oldest_type']} (id {row['oldest_id']}) "
                f"{float(row['oldest_age_s']):.1f}s old"
                for svc, row in backlog.items() if row["pending"]]
            return breaches, {svc: int(row["pending"]) for svc, row in backlog.items()}
        return until(deadline, once)


@register
class DeadLettersAccounted:
    name: ClassVar[str] = "dead_letters_accounted"
    guards: ClassVar[str] = ("every message dead-lettered during the run is shown, and the "
                             "order it concerns still reached a terminal state")
    reads: ClassVar[tuple[str, ...]] = ("broker <svc>.saga.dlq", "order.orders")

    def evaluate(self, ctx: CheckContext) -> tuple[list[str], dict[str, Any]]:
        deadline = ctx.cleared_at + ctx.bounds.terminal_within_s
        return until(deadline, lambda: self._once(ctx), interval_s=1.0)

    def _once(self, ctx: CheckContext) -> tuple[list[str], dict[str, Any]]:
        shown: list[str] = []
        parked: list[QueuedMessage] = []
        breaches: list[str] = []
        for queue in dead_letter_queues():
            found = queued_since_baseline(ctx, queue, "dead_letters")
            if found is None:
                breaches.append(f"dead-letter queue {queue} does not exist")
                continue
            parked.extend(found)
        ids = sorted({m.order_id for m in parked if m.order_id is not None})
        status = {int(r["id"]): str(r["status"]) for r in ctx.sources.rows(
            "order", "SELECT id, status FROM orders WHERE id = ANY($1::bigint[])", ids)}
        for message in parked:
            shown.append(message.describe())
            if message.order_id is None:
                breaches.append(f"dead letter not attributable to an order: {message.describe()}")
            elif status.get(message.order_id) not in TERMINAL:
                breaches.append(f"dead letter left order {message.order_id} "
                                f"{status.get(message.order_id, 'missing')}: "
                                f"{message.describe()}")
        return breaches, {"dead_letters": shown}


@register
class NoUnroutableEvents:
    name: ClassVar[str] = "no_unroutable_events"
    guards: ClassVar[str] = ("no event published during the run reached the alternate "
                             "exchange's queue crashcart.unroutable (and that queue exists)")
    reads: ClassVar[tuple[str, ...]] = ("broker crashcart.unroutable",)

    def evaluate(self, ctx: CheckContext) -> tuple[list[str], dict[str, Any]]:
        found = queued_since_baseline(ctx, UNROUTABLE_QUEUE, "unroutable")
        if found is None:
            return [f"queue {UNROUTABLE_QUEUE} does not exist: an unroutable publish would be "
                    f"dropped unseen (no alternate exchange)"], {}
        return ([f"unroutable event: {m.event_type or '?'} routing key {m.routing_key!r} "
                 f"id {m.message_id}" for m in found], {"unroutable": len(found)})
