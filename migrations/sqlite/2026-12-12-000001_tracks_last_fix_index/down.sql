DROP INDEX tracks_staff_t;
CREATE INDEX tracks_staff_t ON tracks (staff, t_to);
