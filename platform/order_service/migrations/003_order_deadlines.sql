-- Order deadlines and re-driving (order_service/reconciler.py). An order still PENDING
-- ORDER_DEADLINE_S after `created_at` is expired; before that its saga is pushed again when
-- `next_redrive_at` (NULL: ORDER_REDRIVE_S after creation) has passed. `expired_at` is when
-- order.expired was first announced. The payment token is kept to re-emit order.created.
ALTER TABLE orders
    ADD COLUMN payment_token   text,
    ADD COLUMN next_redrive_at timestamptz,
    ADD COLUMN expired_at      timestamptz;

UPDATE orders o SET payment_token = x.payload->>'payment_token'
FROM outbox x
WHERE x.event_type = 'order.created' AND (x.payload->>'order_id')::bigint = o.id;

CREATE INDEX orders_pending_by_age ON orders (created_at) WHERE status = 'PENDING';
