-- The facts of every case that the indicators are computed from (issue 15; src/cases/facts.rs):
-- when it first had each kind of event, who took the steps people are assessed on, its verdict,
-- its stage and due time now. One row per case, written with every change of the case; times in
-- microseconds since the Unix epoch. A case without a row (all of them, after this migration) has
-- its row computed when the store opens: a later change of the derivation empties the table in a
-- migration. (A rejection is the terminal stage `rejected`: it needs no column of its own; 32
-- columns is diesel's limit without its slower-to-build 64-column feature.)
CREATE TABLE case_facts (
    case_id BIGINT PRIMARY KEY NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    reported BIGINT NOT NULL,
    street TEXT,
    grid TEXT,
    category TEXT NOT NULL,
    department TEXT,
    patrol BOOLEAN NOT NULL,
    reporter TEXT NOT NULL,
    verifier TEXT,
    resolver TEXT,
    accepted BIGINT,
    voided BIGINT,
    verified BIGINT,
    verify_late BIGINT,
    opened BIGINT,
    dispatched BIGINT,
    front BIGINT,
    back BIGINT,
    disposed BIGINT,
    dispose_late BIGINT,
    checked BIGINT,
    reworked BIGINT,
    returned BIGINT,
    extended BIGINT,
    supervised BIGINT,
    reopened BIGINT,
    late BIGINT,
    verdict BIGINT,
    -- the verdict: 1 = resolved, + 2 = satisfied or basically satisfied (0 without one)
    verdict_flags INTEGER NOT NULL,
    last_event BIGINT NOT NULL,
    stage TEXT NOT NULL,
    due BIGINT
);
CREATE INDEX case_facts_reported ON case_facts (reported);
