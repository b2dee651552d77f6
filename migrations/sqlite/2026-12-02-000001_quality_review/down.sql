DROP TABLE review_assignments;
DROP TABLE review_cases;
DROP TABLE reviews;
