-- The reporter's verdict (回访, issue 15): a feedback secret per case (only its SHA-256 kept) and
-- at most one verdict per case.
ALTER TABLE cases ADD COLUMN feedback_sha256 TEXT;

CREATE TABLE case_feedback (
    case_id BIGINT PRIMARY KEY NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    at TIMESTAMPTZ NOT NULL,
    resolved BOOLEAN NOT NULL,
    satisfaction TEXT NOT NULL,
    comment TEXT,
    -- how it was given: `link` (the secret) or the intake token's name
    via TEXT NOT NULL
);
