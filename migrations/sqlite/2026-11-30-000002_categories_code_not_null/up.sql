-- A category's code may not be NULL (a TEXT PRIMARY KEY does not imply NOT NULL in SQLite, unlike
-- PostgreSQL): the table is rebuilt with NOT NULL, as the diesel schema declares it.
CREATE TABLE categories_new (
    code TEXT PRIMARY KEY NOT NULL,
    position INTEGER NOT NULL,
    -- the category as JSON (names, layer, group, mandatory/optional, street)
    body TEXT NOT NULL
);
INSERT INTO categories_new (code, position, body)
    SELECT code, position, body FROM categories;
DROP TABLE categories;
ALTER TABLE categories_new RENAME TO categories;
