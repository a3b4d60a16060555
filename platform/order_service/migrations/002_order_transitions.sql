-- Every status an order takes, recorded by the database itself (so even a direct SQL write
-- is seen): "terminal states never change" becomes checkable from this table.
CREATE TABLE order_transitions (
    id          bigserial   PRIMARY KEY,
    order_id    bigint      NOT NULL,
    from_status text,
    to_status   text        NOT NULL,
    at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX order_transitions_by_order ON order_transitions (order_id, id);

CREATE FUNCTION record_order_transition() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO order_transitions (order_id, from_status, to_status)
        VALUES (NEW.id, NULL, NEW.status);
    ELSIF NEW.status IS DISTINCT FROM OLD.status THEN
        INSERT INTO order_transitions (order_id, from_status, to_status)
        VALUES (NEW.id, OLD.status, NEW.status);
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER orders_transitions_on_insert AFTER INSERT ON orders
    FOR EACH ROW EXECUTE FUNCTION record_order_transition();
CREATE TRIGGER orders_transitions_on_status AFTER UPDATE OF status ON orders
    FOR EACH ROW EXECUTE FUNCTION record_order_transition();

-- Orders that existed before: their creation and, if already decided, their outcome.
INSERT INTO order_transitions (order_id, from_status, to_status, at)
SELECT id, NULL, 'PENDING', created_at FROM orders ORDER BY id;
INSERT INTO order_transitions (order_id, from_status, to_status, at)
SELECT id, 'PENDING', status, updated_at FROM orders WHERE status <> 'PENDING' ORDER BY id;
