DROP INDEX cases_open_street;
DROP INDEX cases_street_stage_due;
DROP INDEX cases_street_category_stage;
