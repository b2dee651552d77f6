DROP TABLE tokens;
DROP TABLE features;
DROP TABLE generations;
DROP TABLE draft_features;
DROP TABLE drafts;
