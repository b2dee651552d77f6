-- Each person's newest known position: the newest of their check-ins and of their track chunks'
-- last fixes (a fix wins a tie, as the check-in's speed test has it), kept by a trigger on every
-- row written to either table, in the same statement. A check-in reads it by primary key; only a
-- check-in dated before the person's newest position (a phone sending late) still searches
-- checkins and tracks. `fix` is 0 for a check-in; lon/lat are NULL for a chunk whose last fix is
-- not stored beside it (chunks written before 2026-12-11's migration: then the chunk is
-- decoded). Times compare as the store writes them (RFC 3339 text, whose order is time order,
-- as the indexes on (staff, t) already rely on). The purge deletes rows older than the
-- retention with the fixes and check-ins they came from.
CREATE TABLE positions (
    staff TEXT PRIMARY KEY NOT NULL,
    t TIMESTAMPTZ NOT NULL,
    lon DOUBLE,
    lat DOUBLE,
    fix BOOLEAN NOT NULL
);

CREATE TRIGGER checkins_position AFTER INSERT ON checkins BEGIN
    INSERT INTO positions (staff, t, lon, lat, fix)
    VALUES (NEW.staff, NEW.t, NEW.lon, NEW.lat, 0)
    ON CONFLICT (staff) DO UPDATE
    SET t = excluded.t, lon = excluded.lon, lat = excluded.lat, fix = excluded.fix
    WHERE positions.t < excluded.t;
END;

CREATE TRIGGER tracks_position AFTER INSERT ON tracks BEGIN
    INSERT INTO positions (staff, t, lon, lat, fix)
    VALUES (NEW.staff, NEW.t_to, NEW.last_lon, NEW.last_lat, 1)
    ON CONFLICT (staff) DO UPDATE
    SET t = excluded.t, lon = excluded.lon, lat = excluded.lat, fix = excluded.fix
    WHERE positions.t < excluded.t OR (positions.t = excluded.t AND NOT positions.fix);
END;

-- What is stored already: each person's newest check-in and newest chunk end, the later of the two.
INSERT INTO positions (staff, t, lon, lat, fix)
SELECT staff, t, lon, lat, fix
FROM (
    SELECT staff, t, lon, lat, fix,
           row_number() OVER (PARTITION BY staff ORDER BY t DESC, fix DESC) AS newest
    FROM (
        SELECT staff, t, lon, lat, 0 AS fix FROM checkins
        UNION ALL
        SELECT staff, t_to, last_lon, last_lat, 1 FROM tracks
    )
)
WHERE newest = 1;
