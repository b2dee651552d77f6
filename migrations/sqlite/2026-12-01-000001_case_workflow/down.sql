-- Back to four statuses: the workflow's stages are folded onto them (an event's extra fields
-- are dropped).
DROP INDEX cases_street_stage;
DROP INDEX cases_stage;
DROP INDEX cases_assigned_grid;
DROP INDEX cases_department;
DROP INDEX cases_category_reported;
UPDATE cases SET stage = CASE
    WHEN stage IN ('closed', 'rejected', 'void') THEN 'closed'
    WHEN stage IN ('disposed', 'checked') AND track = 'front_end' THEN 'resolved_front_end'
    WHEN track = 'back_end' THEN 'escalated_back_end'
    ELSE 'assigned' END;
UPDATE case_events SET stage = CASE
    WHEN stage IN ('closed', 'rejected', 'void') THEN 'closed'
    WHEN action = 'dispose' AND department IS NULL THEN 'resolved_front_end'
    WHEN department IS NOT NULL THEN 'escalated_back_end'
    ELSE 'assigned' END;
-- done_at as the old code kept it: when the case was first resolved at the front end, or closed.
UPDATE cases SET done_at = (SELECT MIN(e.at) FROM case_events e
    WHERE e.case_id = cases.id AND e.stage IN ('resolved_front_end', 'closed'))
    WHERE stage IN ('resolved_front_end', 'closed');
ALTER TABLE case_events RENAME COLUMN stage TO status;
ALTER TABLE case_events DROP COLUMN action;
ALTER TABLE case_events DROP COLUMN role;
ALTER TABLE case_events DROP COLUMN photos;
ALTER TABLE case_events DROP COLUMN grid;
ALTER TABLE case_events DROP COLUMN until;
ALTER TABLE case_events DROP COLUMN duplicate_of;
ALTER TABLE case_events DROP COLUMN due_at;
ALTER TABLE case_events DROP COLUMN on_time;
ALTER TABLE cases RENAME COLUMN stage TO status;
ALTER TABLE cases DROP COLUMN track;
ALTER TABLE cases DROP COLUMN assigned_grid;
ALTER TABLE cases DROP COLUMN supervised;
ALTER TABLE cases DROP COLUMN duplicate_of;
ALTER TABLE cases DROP COLUMN limits;
CREATE INDEX cases_status ON cases (status);
DROP TABLE settings;
ALTER TABLE tokens DROP COLUMN grids;
ALTER TABLE tokens DROP COLUMN department;
ALTER TABLE tokens DROP COLUMN subject;
