-- Each person's newest known position: the newest of their check-ins and of their track chunks'
-- last fixes (a fix wins a tie, as the check-in's speed test has it), kept by a trigger on every
-- row written to either table, in the same statement. A check-in reads it by primary key, a
-- statement PostgreSQL plans once and whose plan holds whatever the tables' sizes; only a
-- check-in dated before the person's newest position (a phone sending late) still searches
-- checkins and tracks. `fix` is false for a check-in; lon/lat are NULL for a chunk whose last
-- fix is not stored beside it (then the chunk is decoded). The purge deletes rows older than
-- the retention with the fixes and check-ins they came from.
CREATE TABLE positions (
    staff TEXT PRIMARY KEY NOT NULL,
    t TIMESTAMPTZ NOT NULL,
    lon DOUBLE PRECISION,
    lat DOUBLE PRECISION,
    fix BOOLEAN NOT NULL
);

-- The upsert is written out in each trigger function (PL/pgSQL keeps its plan for the session; a
-- SQL function called from it would be planned on every row).
CREATE FUNCTION positions_from_checkin() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO positions AS p (staff, t, lon, lat, fix)
    VALUES (NEW.staff, NEW.t, NEW.lon, NEW.lat, FALSE)
    ON CONFLICT (staff) DO UPDATE
    SET t = EXCLUDED.t, lon = EXCLUDED.lon, lat = EXCLUDED.lat, fix = EXCLUDED.fix
    WHERE p.t < EXCLUDED.t;
    RETURN NULL;
END
$$;

CREATE FUNCTION positions_from_track() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO positions AS p (staff, t, lon, lat, fix)
    VALUES (NEW.staff, NEW.t_to, NEW.last_lon, NEW.last_lat, TRUE)
    ON CONFLICT (staff) DO UPDATE
    SET t = EXCLUDED.t, lon = EXCLUDED.lon, lat = EXCLUDED.lat, fix = EXCLUDED.fix
    WHERE p.t < EXCLUDED.t OR (p.t = EXCLUDED.t AND NOT p.fix);
    RETURN NULL;
END
$$;

CREATE TRIGGER checkins_position AFTER INSERT ON checkins
    FOR EACH ROW EXECUTE FUNCTION positions_from_checkin();
CREATE TRIGGER tracks_position AFTER INSERT ON tracks
    FOR EACH ROW EXECUTE FUNCTION positions_from_track();

-- What is stored already: each person's newest check-in and newest chunk end, the later of the two.
INSERT INTO positions (staff, t, lon, lat, fix)
SELECT DISTINCT ON (staff) staff, t, lon, lat, fix
FROM (
    SELECT staff, t, lon, lat, FALSE AS fix FROM checkins
    UNION ALL
    SELECT staff, t_to, last_lon, last_lat, TRUE FROM tracks
) AS known
ORDER BY staff, t DESC, fix DESC;
