-- PENDING -> PAID | PAYMENT_FAILED | REJECTED; terminal states never change.
CREATE TABLE orders (
    id              bigserial PRIMARY KEY,
    user_id         bigint        NOT NULL,
    status          text          NOT NULL DEFAULT 'PENDING'
                    CHECK (status IN ('PENDING', 'PAID', 'PAYMENT_FAILED', 'REJECTED')),
    total           numeric(18,2) NOT NULL,
    currency        text          NOT NULL DEFAULT 'EUR',
    idempotency_key text          NOT NULL,
    request_hash    text          NOT NULL,
    created_at      timestamptz   NOT NULL DEFAULT now(),
    updated_at      timestamptz   NOT NULL DEFAULT now(),
    UNIQUE (user_id, idempotency_key)
);
CREATE INDEX orders_by_user ON orders (user_id, id DESC);

CREATE TABLE order_items (
    order_id   bigint        NOT NULL REFERENCES orders (id),
    line       integer       NOT NULL,
    product_id bigint        NOT NULL,
    quantity   integer       NOT NULL CHECK (quantity BETWEEN 1 AND 100),
    unit_price numeric(10,2) NOT NULL,
    PRIMARY KEY (order_id, line)
);
