-- Tokens expire (set at creation; NULL: never) and record when they were last used (updated at
-- most once a minute per token).
ALTER TABLE tokens ADD COLUMN expires_at TIMESTAMPTZ;
ALTER TABLE tokens ADD COLUMN last_used_at TIMESTAMPTZ;
