-- Stock split: `stock` stays what can still be bought (available); `reserved` and `sold`
-- hold the units taken out by reservations, so per product
--   sum(stock_adjustments.delta) = stock + reserved + sold
-- is a checkable statement (stock conserved).
ALTER TABLE products
    ADD COLUMN reserved bigint NOT NULL DEFAULT 0 CHECK (reserved >= 0),
    ADD COLUMN sold     bigint NOT NULL DEFAULT 0 CHECK (sold >= 0);

-- Backfill from the reservations already made (their units are already out of `stock`).
UPDATE products p SET
    reserved = coalesce((SELECT sum(i.quantity) FROM reservation_items i
                         JOIN reservations r USING (order_id)
                         WHERE i.product_id = p.id AND r.state = 'RESERVED'), 0),
    sold     = coalesce((SELECT sum(i.quantity) FROM reservation_items i
                         JOIN reservations r USING (order_id)
                         WHERE i.product_id = p.id AND r.state = 'COMMITTED'), 0);

-- Every change of the units a product has: 'initial' (its starting stock), 'admin' (PATCH).
CREATE TABLE stock_adjustments (
    id         bigserial   PRIMARY KEY,
    product_id bigint      NOT NULL REFERENCES products (id),
    delta      bigint      NOT NULL,
    reason     text        NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX stock_adjustments_by_product ON stock_adjustments (product_id);

INSERT INTO stock_adjustments (product_id, delta, reason)
SELECT id, stock + reserved + sold, 'initial' FROM products ORDER BY id;
