DROP TRIGGER tracks_position ON tracks;
DROP TRIGGER checkins_position ON checkins;
DROP FUNCTION positions_from_track();
DROP FUNCTION positions_from_checkin();
DROP TABLE positions;
