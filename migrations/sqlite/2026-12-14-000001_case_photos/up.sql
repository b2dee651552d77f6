-- Case photos (issue 18): the metadata of each stored photo; the bytes (stripped of EXIF/XMP/
-- comments) and the thumbnail live in the photo store (a directory or S3) under the two keys.
CREATE TABLE case_photos (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    case_id BIGINT NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    -- report, before, after
    kind TEXT NOT NULL,
    object_key TEXT NOT NULL UNIQUE,
    thumb_key TEXT NOT NULL UNIQUE,
    -- image/jpeg or image/png (sniffed from the bytes)
    content_type TEXT NOT NULL,
    bytes BIGINT NOT NULL,
    width INTEGER NOT NULL,
    height INTEGER NOT NULL,
    -- SHA-256 of the stored bytes (hex): the ETag
    sha256 TEXT NOT NULL,
    -- EXIF DateTimeOriginal as the camera recorded it (local time, offset when recorded)
    taken_at TEXT,
    uploaded_at TIMESTAMPTZ NOT NULL,
    -- the token's name (subject) or role
    uploaded_by TEXT NOT NULL
);
CREATE INDEX case_photos_case ON case_photos (case_id, id);
