DROP TABLE tracks;
DROP TABLE checkins;
DROP TABLE duty;
DROP TABLE staff;
