-- The field force (issue 16): the staff roster, the duty roster, check-ins (电子考勤) and patrol
-- tracks. Tracks are chunks of one person's cleaned fixes (one per ingested batch and local
-- day) with their time span and bounding box; the fixes are an EWKB MultiPoint M (M = seconds
-- since the Unix epoch), as PostGIS stores them.
CREATE TABLE staff (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    phone TEXT,
    role TEXT NOT NULL,
    org TEXT NOT NULL,
    org_kind TEXT NOT NULL,
    team TEXT,
    street TEXT NOT NULL,
    -- JSON list of area codes
    areas TEXT NOT NULL
);
CREATE INDEX staff_street ON staff (street);

CREATE TABLE duty (
    staff TEXT NOT NULL,
    date DATE NOT NULL,
    shift TEXT NOT NULL,
    PRIMARY KEY (staff, date, shift)
);
CREATE INDEX duty_date ON duty (date);

CREATE TABLE checkins (
    id BIGSERIAL PRIMARY KEY,
    staff TEXT NOT NULL,
    t TIMESTAMPTZ NOT NULL,
    punch TEXT NOT NULL,
    lon DOUBLE PRECISION NOT NULL,
    lat DOUBLE PRECISION NOT NULL,
    accuracy_m DOUBLE PRECISION,
    place TEXT NOT NULL,
    distance_m DOUBLE PRECISION,
    area TEXT,
    class TEXT NOT NULL,
    shift_date DATE,
    shift TEXT,
    recorded_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX checkins_staff_t ON checkins (staff, t);
CREATE INDEX checkins_t ON checkins (t);

CREATE TABLE tracks (
    id BIGSERIAL PRIMARY KEY,
    staff TEXT NOT NULL,
    t_from TIMESTAMPTZ NOT NULL,
    t_to TIMESTAMPTZ NOT NULL,
    n INTEGER NOT NULL,
    min_lon DOUBLE PRECISION NOT NULL,
    min_lat DOUBLE PRECISION NOT NULL,
    max_lon DOUBLE PRECISION NOT NULL,
    max_lat DOUBLE PRECISION NOT NULL,
    fixes geometry(MultiPointM, 4326) NOT NULL
);
CREATE INDEX tracks_staff_t ON tracks (staff, t_to);
CREATE INDEX tracks_t ON tracks (t_from, t_to);
CREATE INDEX tracks_fixes ON tracks USING GIST (fixes);

-- For GIS tools (QGIS): every stored chunk as a line through its fixes, M = epoch seconds.
CREATE VIEW track_lines AS
SELECT id, staff, t_from, t_to, n,
       CASE WHEN n >= 2 THEN ST_MakeLine(ARRAY(SELECT (ST_DumpPoints(fixes)).geom))
       END::geometry(LineStringM, 4326) AS path
FROM tracks;
