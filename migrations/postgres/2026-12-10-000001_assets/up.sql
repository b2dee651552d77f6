-- City components (部件) and shops under frontage duty (门责) (issue 17): registers kept apart from
-- the boundary generations, one row per component or shop changed in place; the frontage
-- inspections of shops and their points records, which name the shop by id and stay as history
-- when the shop goes (no foreign key: a register replaced whole keeps its shops' records).
-- Keys sort by code point (COLLATE "C") as on SQLite, so that keyset pages are the same on both;
-- the indexed text columns of components too (a byte compare builds their indexes faster).
CREATE TABLE components (
    code TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    -- digits 7–8 of the code (major class) and 7–10 (major class + subclass); NULL when the code
    -- is too short to hold them
    class TEXT COLLATE "C",
    subclass TEXT COLLATE "C",
    owner TEXT COLLATE "C" NOT NULL,
    maintainer TEXT,
    state TEXT COLLATE "C" NOT NULL,
    survey_date DATE,
    -- JSON object of the other attributes
    attributes TEXT NOT NULL,
    lon DOUBLE PRECISION NOT NULL,
    lat DOUBLE PRECISION NOT NULL,
    geom geometry(Point, 4326) NOT NULL
);
-- No index on class (7 values) alone: a class query walks the code order or the table. A write of
-- a whole register drops the secondary indexes and builds them again after (src/store/diesel/assets.rs).
CREATE INDEX components_owner ON components (owner);
CREATE INDEX components_subclass ON components (subclass);
CREATE INDEX components_state ON components (state);
CREATE INDEX components_geom ON components USING GIST (geom);

CREATE TABLE shops (
    id TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    credit_code TEXT,
    contact TEXT,
    phone TEXT,
    pledge_signed DATE,
    -- the door (Point) or the footprint (Polygon), and its bounding box
    geom geometry(Geometry, 4326) NOT NULL,
    min_lon DOUBLE PRECISION NOT NULL,
    min_lat DOUBLE PRECISION NOT NULL,
    max_lon DOUBLE PRECISION NOT NULL,
    max_lat DOUBLE PRECISION NOT NULL,
    -- the road segment it faces: all three or none; source 'nearest' or 'manual'
    frontage_segment TEXT,
    frontage_distance_m DOUBLE PRECISION,
    frontage_source TEXT,
    attributes TEXT NOT NULL,
    CHECK (GeometryType(geom) IN ('POINT', 'POLYGON')),
    CHECK ((frontage_segment IS NULL) = (frontage_distance_m IS NULL)
           AND (frontage_segment IS NULL) = (frontage_source IS NULL)),
    CHECK (frontage_source IS NULL OR frontage_source IN ('nearest', 'manual'))
);
CREATE INDEX shops_frontage_segment ON shops (frontage_segment);
CREATE INDEX shops_geom ON shops USING GIST (geom);

CREATE TABLE shop_inspections (
    id BIGSERIAL PRIMARY KEY,
    shop TEXT NOT NULL,
    date DATE NOT NULL,
    inspector TEXT NOT NULL,
    -- JSON lists of the items checked and of the photo keys
    items TEXT NOT NULL,
    photos TEXT NOT NULL
);
CREATE INDEX shop_inspections_shop_date ON shop_inspections (shop, date);
CREATE INDEX shop_inspections_date ON shop_inspections (date);

CREATE TABLE shop_points (
    id BIGSERIAL PRIMARY KEY,
    shop TEXT NOT NULL,
    at TIMESTAMPTZ NOT NULL,
    points BIGINT NOT NULL CHECK (points >= 0),
    -- 'inspection' (with inspection_id) or 'case' (with case_id and category)
    reason TEXT NOT NULL,
    inspection_id BIGINT,
    case_id BIGINT,
    category TEXT,
    CHECK ((reason = 'inspection' AND inspection_id IS NOT NULL AND case_id IS NULL)
           OR (reason = 'case' AND case_id IS NOT NULL AND category IS NOT NULL
               AND inspection_id IS NULL))
);
-- A confirmed case counts once on a shop's record.
CREATE UNIQUE INDEX shop_points_case ON shop_points (shop, case_id) WHERE case_id IS NOT NULL;
CREATE INDEX shop_points_shop_at ON shop_points (shop, at);
CREATE INDEX shop_points_at ON shop_points (at);
