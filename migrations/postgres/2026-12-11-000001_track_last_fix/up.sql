-- The last fix of each track chunk beside its time (t_to), written with the chunk: a check-in's
-- speed test reads the person's previous position from one indexed row instead of decoding the
-- chunk's fixes. Existing chunks are filled from their last point.
ALTER TABLE tracks ADD COLUMN last_lon DOUBLE PRECISION;
ALTER TABLE tracks ADD COLUMN last_lat DOUBLE PRECISION;
UPDATE tracks
SET last_lon = ST_X(ST_GeometryN(fixes, ST_NumGeometries(fixes))),
    last_lat = ST_Y(ST_GeometryN(fixes, ST_NumGeometries(fixes)));
