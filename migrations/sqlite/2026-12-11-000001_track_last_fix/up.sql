-- The last fix of each track chunk beside its time (t_to), written with the chunk: a check-in's
-- speed test reads the person's previous position from one indexed row instead of decoding the
-- chunk's fixes. Chunks written before this migration keep NULL and are decoded as before.
ALTER TABLE tracks ADD COLUMN last_lon DOUBLE;
ALTER TABLE tracks ADD COLUMN last_lat DOUBLE;
