-- Quality review by sampling (质量考评, issue 15): a review (its period, streets, draw and rubric
-- as JSON), its sampled cases, and every reviewer's assignment with the score once given.
CREATE TABLE reviews (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    name TEXT NOT NULL,
    -- cases reported in [period_from, period_to)
    period_from TIMESTAMPTZ NOT NULL,
    period_to TIMESTAMPTZ NOT NULL,
    -- JSON list of street codes; [] = every street
    streets TEXT NOT NULL,
    -- the draw as JSON: method, n | per_street | fraction, stratify, seed
    spec TEXT NOT NULL,
    -- the rubric as JSON, kept with the review
    rubric TEXT NOT NULL,
    k INTEGER NOT NULL,
    -- at most 2^53 - 1 (see cases::review::MAX_SEED); also in `spec`
    seed BIGINT NOT NULL,
    -- how many closed cases the sample was drawn from
    population BIGINT NOT NULL,
    created_by TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    closed_at TIMESTAMPTZ
);

CREATE TABLE review_cases (
    review_id BIGINT NOT NULL REFERENCES reviews (id) ON DELETE CASCADE,
    case_id BIGINT NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    street TEXT NOT NULL,
    category TEXT NOT NULL,
    -- the category's group when drawn (the stratum)
    grp TEXT NOT NULL,
    PRIMARY KEY (review_id, case_id)
);

CREATE TABLE review_assignments (
    review_id BIGINT NOT NULL,
    case_id BIGINT NOT NULL,
    reviewer TEXT NOT NULL,
    reviewer_street TEXT NOT NULL,
    -- points per rubric item (JSON), their total, once scored
    points TEXT,
    total DOUBLE,
    comment TEXT,
    scored_at TIMESTAMPTZ,
    PRIMARY KEY (review_id, case_id, reviewer),
    FOREIGN KEY (review_id, case_id) REFERENCES review_cases (review_id, case_id) ON DELETE CASCADE
);
-- a reviewer's tasks
CREATE INDEX review_assignments_reviewer ON review_assignments (reviewer, reviewer_street, review_id);
