-- One payment per order, enforced by the database: a redelivered event never charges twice.
CREATE TABLE payments (
    id         bigserial PRIMARY KEY,
    order_id   bigint        NOT NULL UNIQUE,
    user_id    bigint        NOT NULL,
    amount     numeric(18,2) NOT NULL,
    currency   text          NOT NULL,
    status     text          NOT NULL CHECK (status IN ('APPROVED', 'DECLINED')),
    created_at timestamptz   NOT NULL DEFAULT now()
);
CREATE INDEX payments_by_user ON payments (user_id, id);
