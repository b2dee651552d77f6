-- Idempotency keys (issue 18): the first answer to a request sent with an `Idempotency-Key`
-- header, per token (`principal`) and key, written in the transaction of the request's effect,
-- so that a retried request is answered again instead of being applied twice. The request is
-- identified by its route (method and path, with the query) and the SHA-256 of its body. Kept
-- for a day (configurable), then purged.
CREATE TABLE idempotency_keys (
    principal BIGINT NOT NULL,
    idem_key TEXT NOT NULL,
    route TEXT NOT NULL,
    request_sha256 TEXT NOT NULL,
    status INTEGER NOT NULL,
    -- the answer's JSON body, as answered (a case's feedback secret left out)
    body TEXT NOT NULL,
    resource_id BIGINT,
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (principal, idem_key)
);
CREATE INDEX idempotency_keys_created_at ON idempotency_keys (created_at);
