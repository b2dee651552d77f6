DROP TRIGGER tracks_position;
DROP TRIGGER checkins_position;
DROP TABLE positions;
