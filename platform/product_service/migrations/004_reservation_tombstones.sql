-- EXPIRED: the order ended (expired, or its payment failed) before anything was reserved
-- for it; the row is a tombstone, so a late order.created is ignored instead of reserving
-- units for an order that is already over.
ALTER TABLE reservations DROP CONSTRAINT reservations_state_check;
ALTER TABLE reservations ADD CONSTRAINT reservations_state_check
    CHECK (state IN ('RESERVED', 'COMMITTED', 'RELEASED', 'REJECTED', 'EXPIRED'));
