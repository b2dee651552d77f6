-- Case categories (task list items) and cases with their status changes.
CREATE TABLE categories (
    code TEXT PRIMARY KEY,
    position INTEGER NOT NULL,
    -- the category as JSON (names, layer, group, mandatory/optional, street)
    body TEXT NOT NULL
);

CREATE TABLE cases (
    id BIGSERIAL PRIMARY KEY,
    category TEXT NOT NULL,
    source TEXT NOT NULL,
    description TEXT NOT NULL,
    status TEXT NOT NULL,
    input_lon DOUBLE PRECISION NOT NULL,
    input_lat DOUBLE PRECISION NOT NULL,
    input_crs TEXT NOT NULL,
    -- the WGS84 point routed
    lon DOUBLE PRECISION NOT NULL,
    lat DOUBLE PRECISION NOT NULL,
    reported_at TIMESTAMPTZ NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    due_at TIMESTAMPTZ NOT NULL,
    -- first resolved at the front end, or closed
    done_at TIMESTAMPTZ,
    street TEXT,
    grid TEXT,
    block TEXT,
    -- the generation whose boundaries routed the case
    generation BIGINT,
    confidence TEXT NOT NULL,
    department TEXT,
    photos TEXT NOT NULL,
    -- reporter's contact details (JSON), never shown publicly
    contact TEXT,
    created_by TEXT NOT NULL,
    -- the assignment as routed (JSON)
    assignment TEXT NOT NULL
);
CREATE INDEX cases_grid ON cases (grid);
CREATE INDEX cases_street ON cases (street);
CREATE INDEX cases_status ON cases (status);
CREATE INDEX cases_reported_at ON cases (reported_at);

CREATE TABLE case_events (
    case_id BIGINT NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    at TIMESTAMPTZ NOT NULL,
    status TEXT NOT NULL,
    actor TEXT NOT NULL,
    department TEXT,
    note TEXT,
    PRIMARY KEY (case_id, seq)
);
