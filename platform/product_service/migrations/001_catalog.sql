-- products.stock is what can still be bought: reserved and sold units are already taken out.
CREATE TABLE products (
    id          bigserial PRIMARY KEY,
    sku         text          NOT NULL UNIQUE,
    name        text          NOT NULL,
    description text          NOT NULL DEFAULT '',
    price       numeric(10,2) NOT NULL CHECK (price >= 0),
    currency    text          NOT NULL DEFAULT 'EUR',
    stock       bigint        NOT NULL CHECK (stock >= 0),
    created_at  timestamptz   NOT NULL DEFAULT now(),
    updated_at  timestamptz   NOT NULL DEFAULT now()
);

-- One reservation per order: RESERVED -> COMMITTED (sold) | RELEASED (compensated);
-- REJECTED records an order that could not be reserved (nothing taken out).
CREATE TABLE reservations (
    order_id   bigint      PRIMARY KEY,
    state      text        NOT NULL CHECK (state IN ('RESERVED', 'COMMITTED', 'RELEASED', 'REJECTED')),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE reservation_items (
    order_id   bigint NOT NULL REFERENCES reservations (order_id),
    product_id bigint NOT NULL REFERENCES products (id),
    quantity   bigint NOT NULL CHECK (quantity > 0),
    PRIMARY KEY (order_id, product_id)
);
