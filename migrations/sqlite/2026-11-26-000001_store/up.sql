-- gridatlas storage: drafts, generations (temporal feature rows), tokens.
-- Generation N is every row of `features` with valid_from <= N AND (valid_to IS NULL OR valid_to > N).
-- Geometries are EWKB blobs (SRID 4326), the same bytes PostGIS uses.
CREATE TABLE drafts (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    created_by TEXT NOT NULL,
    base_generation INTEGER NOT NULL,
    covered_streets TEXT,
    report TEXT NOT NULL,
    error_count INTEGER NOT NULL,
    feature_count INTEGER NOT NULL,
    management_units TEXT NOT NULL,
    published_generation INTEGER
);

CREATE TABLE draft_features (
    draft_id BIGINT NOT NULL REFERENCES drafts (id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    code TEXT NOT NULL,
    layer TEXT NOT NULL,
    name TEXT NOT NULL,
    parent TEXT,
    kind TEXT,
    people TEXT NOT NULL,
    attributes TEXT NOT NULL,
    area BLOB,
    line BLOB,
    PRIMARY KEY (draft_id, seq),
    CHECK ((area IS NULL) <> (line IS NULL))
);

CREATE TABLE generations (
    number INTEGER PRIMARY KEY NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    created_by TEXT NOT NULL,
    draft_id BIGINT NOT NULL REFERENCES drafts (id),
    override_reason TEXT,
    error_count INTEGER NOT NULL,
    changes TEXT NOT NULL,
    management_units TEXT NOT NULL,
    feature_count INTEGER NOT NULL
);
CREATE INDEX generations_created_at ON generations (created_at);

CREATE TABLE features (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    code TEXT NOT NULL,
    layer TEXT NOT NULL,
    name TEXT NOT NULL,
    parent TEXT,
    kind TEXT,
    people TEXT NOT NULL,
    attributes TEXT NOT NULL,
    area BLOB,
    line BLOB,
    valid_from INTEGER NOT NULL REFERENCES generations (number),
    valid_to INTEGER REFERENCES generations (number),
    CHECK ((area IS NULL) <> (line IS NULL)),
    CHECK (valid_to IS NULL OR valid_to > valid_from)
);
CREATE INDEX features_valid_from ON features (valid_from);
CREATE INDEX features_valid_to ON features (valid_to);
CREATE UNIQUE INDEX features_current_code ON features (code) WHERE valid_to IS NULL;

CREATE TABLE tokens (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    role TEXT NOT NULL,
    streets TEXT NOT NULL,
    secret_sha256 TEXT NOT NULL UNIQUE,
    created_at TIMESTAMPTZ NOT NULL,
    revoked BOOLEAN NOT NULL DEFAULT FALSE
);
