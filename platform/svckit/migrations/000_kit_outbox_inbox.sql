-- svckit's own tables, present in every service database: the transactional outbox
-- (events written in the same transaction as the state change, published by the relay)
-- and the inbox (ids of consumed events, written in the same transaction as their effect).
CREATE TABLE outbox (
    id           bigserial PRIMARY KEY,
    event_id     uuid        NOT NULL UNIQUE,
    event_type   text        NOT NULL,
    payload      jsonb       NOT NULL,
    headers      jsonb       NOT NULL DEFAULT '{}'::jsonb,
    created_at   timestamptz NOT NULL DEFAULT now(),
    published_at timestamptz
);
CREATE INDEX outbox_unpublished ON outbox (id) WHERE published_at IS NULL;

CREATE TABLE inbox (
    event_id     text        PRIMARY KEY,
    event_type   text        NOT NULL,
    queue        text        NOT NULL,
    processed_at timestamptz NOT NULL DEFAULT now()
);
