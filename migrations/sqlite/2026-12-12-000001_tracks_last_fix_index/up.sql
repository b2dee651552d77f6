-- The index of a person's chunks by end time also holds the start and the last fix, so that a
-- check-in's previous position is read from the index alone: in the table those columns come
-- after the chunk's fixes (a blob of several pages), and reading them walked its overflow pages.
DROP INDEX tracks_staff_t;
CREATE INDEX tracks_staff_t ON tracks (staff, t_to, t_from, last_lon, last_lat);
