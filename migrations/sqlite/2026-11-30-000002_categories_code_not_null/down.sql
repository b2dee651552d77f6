CREATE TABLE categories_old (
    code TEXT PRIMARY KEY,
    position INTEGER NOT NULL,
    body TEXT NOT NULL
);
INSERT INTO categories_old (code, position, body) SELECT code, position, body FROM categories;
DROP TABLE categories;
ALTER TABLE categories_old RENAME TO categories;
