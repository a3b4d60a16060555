-- The card processor simulator's own record (processor.py), kept outside the payment
-- transaction: one row per idempotency key (`order-<order_id>`), written by its own
-- autocommitted statement, so a charge whose payment transaction then failed stays visible
-- and a retry with the same key returns the recorded outcome instead of charging again.
CREATE TABLE processor_ledger (
    idempotency_key text          PRIMARY KEY,
    order_id        bigint        NOT NULL,
    amount          numeric(18,2) NOT NULL,
    currency        text          NOT NULL,
    outcome         text          NOT NULL CHECK (outcome IN ('APPROVED', 'DECLINED')),
    refunded_at     timestamptz,
    created_at      timestamptz   NOT NULL DEFAULT now()
);
CREATE INDEX processor_ledger_by_order ON processor_ledger (order_id);
