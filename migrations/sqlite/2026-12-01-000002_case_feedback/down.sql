DROP TABLE case_feedback;
ALTER TABLE cases DROP COLUMN feedback_sha256;
