-- Listing a street's open cases at a million cases (BENCHMARKS.md, "Case workflow"): the
-- overdue filter and the category filter each get an index that answers them within the street.
CREATE INDEX cases_street_stage_due ON cases (street, stage, due_at);
CREATE INDEX cases_street_category_stage ON cases (street, category, stage);
-- PostgreSQL: the open cases of a street, newest first, from a partial index.
CREATE INDEX cases_open_street ON cases (street, id)
    WHERE stage IN ('reported', 'accepted', 'verified', 'opened', 'dispatched', 'disposed', 'checked', 'on_hold');
