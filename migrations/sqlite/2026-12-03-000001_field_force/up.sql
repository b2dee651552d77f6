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
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    staff TEXT NOT NULL,
    t TIMESTAMPTZ NOT NULL,
    punch TEXT NOT NULL,
    lon DOUBLE NOT NULL,
    lat DOUBLE NOT NULL,
    accuracy_m DOUBLE,
    place TEXT NOT NULL,
    distance_m DOUBLE,
    area TEXT,
    class TEXT NOT NULL,
    shift_date DATE,
    shift TEXT,
    recorded_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX checkins_staff_t ON checkins (staff, t);
CREATE INDEX checkins_t ON checkins (t);

CREATE TABLE tracks (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    staff TEXT NOT NULL,
    t_from TIMESTAMPTZ NOT NULL,
    t_to TIMESTAMPTZ NOT NULL,
    n INTEGER NOT NULL,
    min_lon DOUBLE NOT NULL,
    min_lat DOUBLE NOT NULL,
    max_lon DOUBLE NOT NULL,
    max_lat DOUBLE NOT NULL,
    fixes BLOB NOT NULL
);
CREATE INDEX tracks_staff_t ON tracks (staff, t_to);
CREATE INDEX tracks_t ON tracks (t_from, t_to);
