-- The index of a person's chunks by end time also holds the start, the last fix and the id, so
-- that a check-in's previous position is an index-only scan (the fixes stay in the table).
DROP INDEX tracks_staff_t;
CREATE INDEX tracks_staff_t ON tracks (staff, t_to) INCLUDE (t_from, last_lon, last_lat, id);
