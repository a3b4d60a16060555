-- Login throttle state (user_service/throttle.py), shared by every user-service process and
-- kept across restarts. Times are the database's clock, so all workers agree on them.
CREATE TABLE login_throttle_accounts (
    account      text             PRIMARY KEY,
    failures     integer          NOT NULL DEFAULT 0,
    locked_until timestamptz      NOT NULL DEFAULT 'epoch',
    last_failure timestamptz      NOT NULL DEFAULT 'epoch'
);
CREATE INDEX login_throttle_accounts_last_failure ON login_throttle_accounts (last_failure);

CREATE TABLE login_throttle_clients (
    client  text             PRIMARY KEY,
    tokens  double precision NOT NULL,
    updated timestamptz      NOT NULL
);
CREATE INDEX login_throttle_clients_updated ON login_throttle_clients (updated);

-- One attempt, atomically: lock the account's row, then the client's (always in that order,
-- so concurrent attempts cannot deadlock), answer the wait in whole seconds (0: go ahead) and,
-- when allowed and p_record, count the attempt as a failure in advance (the caller takes it
-- back on success), so concurrent attempts cannot all slip past while passwords are hashed.
CREATE FUNCTION login_throttle_attempt(
    p_account text, p_client text, p_free_failures integer, p_max_lock_s double precision,
    p_forget_s double precision, p_burst double precision, p_per_s double precision,
    p_record boolean DEFAULT true, p_now timestamptz DEFAULT NULL
) RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    now_    timestamptz := coalesce(p_now, clock_timestamp());
    acc     login_throttle_accounts;
    tokens_ double precision;
    wait_   double precision;
    beyond  integer;
BEGIN
    INSERT INTO login_throttle_accounts (account) VALUES (p_account) ON CONFLICT DO NOTHING;
    SELECT * INTO acc FROM login_throttle_accounts WHERE account = p_account FOR UPDATE;
    INSERT INTO login_throttle_clients (client, tokens, updated) VALUES (p_client, p_burst, now_)
        ON CONFLICT DO NOTHING;
    SELECT least(p_burst, c.tokens + greatest(0, extract(epoch FROM now_ - c.updated)) * p_per_s)
        INTO tokens_ FROM login_throttle_clients c WHERE c.client = p_client FOR UPDATE;

    wait_ := greatest(0, extract(epoch FROM acc.locked_until - now_));
    IF tokens_ < 1 THEN
        wait_ := greatest(wait_, (1 - tokens_) / p_per_s);
    END IF;
    IF wait_ > 0 OR NOT p_record THEN
        RETURN ceil(wait_)::integer;
    END IF;

    IF extract(epoch FROM now_ - acc.last_failure) > p_forget_s THEN
        acc.failures := 0;
    END IF;
    acc.failures := acc.failures + 1;
    beyond := acc.failures - p_free_failures;
    UPDATE login_throttle_accounts SET
        failures = acc.failures, last_failure = now_,
        locked_until = CASE WHEN beyond >= 0
            THEN now_ + make_interval(secs => least(2.0 ^ least(beyond, 40), p_max_lock_s))
            ELSE locked_until END
        WHERE account = p_account;
    UPDATE login_throttle_clients SET tokens = tokens_ - 1, updated = now_
        WHERE client = p_client;

    -- Now and then forget what no longer matters (bounded tables under a spray of new keys);
    -- SKIP LOCKED: never wait for, nor deadlock with, a concurrent attempt.
    IF random() < 0.01 THEN
        DELETE FROM login_throttle_accounts WHERE account IN (
            SELECT a.account FROM login_throttle_accounts a
            WHERE a.last_failure < now_ - make_interval(secs => p_forget_s)
              AND a.locked_until < now_
            LIMIT 1000 FOR UPDATE SKIP LOCKED);
        DELETE FROM login_throttle_clients WHERE client IN (
            SELECT c.client FROM login_throttle_clients c
            WHERE c.tokens + extract(epoch FROM now_ - c.updated) * p_per_s >= p_burst
            LIMIT 1000 FOR UPDATE SKIP LOCKED);
    END IF;
    RETURN 0;
END $$;

-- A success clears the account's count and gives the client its failure back.
CREATE FUNCTION login_throttle_succeeded(p_account text, p_client text, p_burst double precision)
RETURNS void LANGUAGE sql AS $$
    DELETE FROM login_throttle_accounts WHERE account = p_account;
    UPDATE login_throttle_clients SET tokens = least(p_burst, tokens + 1) WHERE client = p_client;
$$;
