ALTER TABLE tracks DROP COLUMN last_lat;
ALTER TABLE tracks DROP COLUMN last_lon;
