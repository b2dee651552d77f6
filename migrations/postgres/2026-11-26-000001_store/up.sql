-- gridatlas storage: drafts, generations (temporal feature rows), tokens.
-- Generation N is every row of `features` with valid_from <= N AND (valid_to IS NULL OR valid_to > N).
CREATE EXTENSION IF NOT EXISTS postgis;

CREATE TABLE drafts (
    id BIGSERIAL PRIMARY KEY,
    created_at TIMESTAMPTZ NOT NULL,
    created_by TEXT NOT NULL,
    -- the generation current when the draft was made (0: none); publish is refused if it moved
    base_generation INTEGER NOT NULL,
    -- JSON array of street codes the draft replaces; NULL: the draft is the whole territory
    covered_streets TEXT,
    -- validation report (JSON) of the draft as a whole, and its number of errors
    report TEXT NOT NULL,
    error_count INTEGER NOT NULL,
    feature_count INTEGER NOT NULL,
    -- JSON array of management units
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
    area geometry(MultiPolygon, 4326),
    line geometry(MultiLineString, 4326),
    PRIMARY KEY (draft_id, seq),
    CHECK ((area IS NULL) <> (line IS NULL))
);

CREATE TABLE generations (
    number INTEGER PRIMARY KEY,
    created_at TIMESTAMPTZ NOT NULL,
    created_by TEXT NOT NULL,
    draft_id BIGINT NOT NULL REFERENCES drafts (id),
    -- reason given by an admin who published over validation errors
    override_reason TEXT,
    error_count INTEGER NOT NULL,
    -- JSON object: layer -> {added, removed, changed}
    changes TEXT NOT NULL,
    management_units TEXT NOT NULL,
    feature_count INTEGER NOT NULL
);
CREATE INDEX generations_created_at ON generations (created_at);

CREATE TABLE features (
    id BIGSERIAL PRIMARY KEY,
    code TEXT NOT NULL,
    layer TEXT NOT NULL,
    name TEXT NOT NULL,
    parent TEXT,
    kind TEXT,
    people TEXT NOT NULL,
    attributes TEXT NOT NULL,
    area geometry(MultiPolygon, 4326),
    line geometry(MultiLineString, 4326),
    valid_from INTEGER NOT NULL REFERENCES generations (number),
    valid_to INTEGER REFERENCES generations (number),
    CHECK ((area IS NULL) <> (line IS NULL)),
    CHECK (valid_to IS NULL OR valid_to > valid_from)
);
CREATE INDEX features_valid_from ON features (valid_from);
CREATE INDEX features_valid_to ON features (valid_to);
CREATE UNIQUE INDEX features_current_code ON features (code) WHERE valid_to IS NULL;
CREATE INDEX features_area_gist ON features USING GIST (area);
CREATE INDEX features_line_gist ON features USING GIST (line);

-- One view per layer of the current generation, for QGIS and other GIS tools.
CREATE VIEW current_streets AS
    SELECT id, code, name, parent, kind, people, attributes, valid_from, area AS geom
    FROM features WHERE valid_to IS NULL AND layer = 'street';
CREATE VIEW current_district AS
    SELECT id, code, name, parent, kind, people, attributes, valid_from, area AS geom
    FROM features WHERE valid_to IS NULL AND layer = 'district';
CREATE VIEW current_resident_grids AS
    SELECT id, code, name, parent, kind, people, attributes, valid_from, area AS geom
    FROM features WHERE valid_to IS NULL AND layer = 'resident_grid';
CREATE VIEW current_street_grids AS
    SELECT id, code, name, parent, kind, people, attributes, valid_from, area AS geom
    FROM features WHERE valid_to IS NULL AND layer = 'street_grid';
CREATE VIEW current_extended_grids AS
    SELECT id, code, name, parent, kind, people, attributes, valid_from, area AS geom
    FROM features WHERE valid_to IS NULL AND layer = 'extended_grid';
CREATE VIEW current_blocks AS
    SELECT id, code, name, parent, kind, people, attributes, valid_from, area AS geom
    FROM features WHERE valid_to IS NULL AND layer = 'block';
CREATE VIEW current_road_segments AS
    SELECT id, code, name, parent, kind, people, attributes, valid_from, line AS geom
    FROM features WHERE valid_to IS NULL AND layer = 'road_segment';

CREATE TABLE tokens (
    id BIGSERIAL PRIMARY KEY,
    role TEXT NOT NULL,
    -- JSON array of street codes the token may act on (empty: all)
    streets TEXT NOT NULL,
    -- hex SHA-256 of the secret; the secret itself is never stored
    secret_sha256 TEXT NOT NULL UNIQUE,
    created_at TIMESTAMPTZ NOT NULL,
    revoked BOOLEAN NOT NULL DEFAULT FALSE
);
