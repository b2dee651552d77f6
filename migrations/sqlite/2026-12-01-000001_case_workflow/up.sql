-- The case workflow of the national standard (issue 14): stages instead of four statuses,
-- events that record the action, the role, photos, targets and due times, token scopes for the
-- new roles, and the working calendar. Every stored case and event is kept and mapped.

-- Tokens: grids (grid_worker), the department (department) and the person (subject).
ALTER TABLE tokens ADD COLUMN grids TEXT NOT NULL DEFAULT '[]';
ALTER TABLE tokens ADD COLUMN department TEXT;
ALTER TABLE tokens ADD COLUMN subject TEXT;

-- Settings kept as documents: the working calendar.
CREATE TABLE settings (
    key TEXT PRIMARY KEY NOT NULL,
    body TEXT NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);

-- Cases: the stage, the track and assignee, the supervision flag, the duplicate link and the
-- stage limits kept with the case (migrated cases get the defaults: their 7 days stay their
-- front-end limit).
ALTER TABLE cases RENAME COLUMN status TO stage;
ALTER TABLE cases ADD COLUMN track TEXT;
ALTER TABLE cases ADD COLUMN assigned_grid TEXT;
ALTER TABLE cases ADD COLUMN supervised BOOLEAN NOT NULL DEFAULT 0;
ALTER TABLE cases ADD COLUMN duplicate_of BIGINT;
ALTER TABLE cases ADD COLUMN limits TEXT NOT NULL DEFAULT '{"accept":"1 work_hours","verify":"2 work_hours","open":"1 work_hours","dispatch":"1 work_hours","dispose":"5 work_days","front_end":"7 days","check":"1 work_days","close":"1 work_days"}';

-- Events: what was done, in which role, with which photos, target and due times.
ALTER TABLE case_events RENAME COLUMN status TO stage;
ALTER TABLE case_events ADD COLUMN action TEXT NOT NULL DEFAULT 'report';
ALTER TABLE case_events ADD COLUMN role TEXT NOT NULL DEFAULT 'migrated';
ALTER TABLE case_events ADD COLUMN photos TEXT NOT NULL DEFAULT '[]';
ALTER TABLE case_events ADD COLUMN grid TEXT;
ALTER TABLE case_events ADD COLUMN until TIMESTAMPTZ;
ALTER TABLE case_events ADD COLUMN duplicate_of BIGINT;
ALTER TABLE case_events ADD COLUMN due_at TIMESTAMPTZ;
ALTER TABLE case_events ADD COLUMN on_time BOOLEAN;

-- Old events: assigned (the routing, which dispatched to the grid at once), resolved_front_end
-- (the grid disposed of it), escalated_back_end (dispatched to a department), closed.
UPDATE case_events SET action = CASE stage
    WHEN 'assigned' THEN 'report'
    WHEN 'resolved_front_end' THEN 'dispose'
    WHEN 'escalated_back_end' THEN 'dispatch'
    WHEN 'closed' THEN 'close'
    ELSE action END;
UPDATE case_events SET grid = (SELECT c.grid FROM cases c WHERE c.id = case_events.case_id)
    WHERE stage IN ('assigned', 'resolved_front_end');
UPDATE case_events SET stage = CASE stage
    WHEN 'assigned' THEN
        (SELECT CASE WHEN c.grid IS NULL THEN 'opened' ELSE 'dispatched' END
         FROM cases c WHERE c.id = case_events.case_id)
    WHEN 'resolved_front_end' THEN 'disposed'
    WHEN 'escalated_back_end' THEN 'dispatched'
    ELSE stage END;
-- The old due time (7 days from the report) was the only one, and nothing moved it: it is the due
-- time of the stage the report started, and of the back-end stage a hand-off to a department
-- started.
UPDATE case_events SET due_at = (SELECT c.due_at FROM cases c WHERE c.id = case_events.case_id)
    WHERE seq = 1 OR action = 'dispatch';
-- Whether each old event ended its stage by that due time, so that the on-time indicator of old
-- cases stays what it was (the old code counted a case on time when it was first resolved at the
-- front end, or closed, by its due time): a front-end resolution or a hand-off ended the first
-- stage; a close ended the back-end stage of a handed-off case. After a front-end resolution no
-- limit ran any more, so a close then says nothing.
UPDATE case_events SET on_time = (case_events.at <=
        (SELECT c.due_at FROM cases c WHERE c.id = case_events.case_id))
    WHERE action IN ('dispose', 'dispatch')
       OR (action = 'close' AND NOT EXISTS (SELECT 1 FROM case_events d
               WHERE d.case_id = case_events.case_id AND d.action = 'dispose'));

-- Old cases: the same mapping; only a closed case is finished. A case resolved at the front end
-- is on the front end even without a grid (the old code let a street's workstation resolve a
-- case in its street queue).
UPDATE cases SET track = CASE
    WHEN stage = 'escalated_back_end' OR (stage = 'closed' AND department IS NOT NULL) THEN 'back_end'
    WHEN grid IS NOT NULL
        OR EXISTS (SELECT 1 FROM case_events e WHERE e.case_id = cases.id AND e.action = 'dispose')
        THEN 'front_end'
    ELSE NULL END;
UPDATE cases SET assigned_grid = grid
    WHERE track = 'front_end' AND stage IN ('assigned', 'resolved_front_end');
UPDATE cases SET stage = CASE stage
    WHEN 'assigned' THEN (CASE WHEN grid IS NULL THEN 'opened' ELSE 'dispatched' END)
    WHEN 'resolved_front_end' THEN 'disposed'
    WHEN 'escalated_back_end' THEN 'dispatched'
    ELSE stage END;
UPDATE cases SET done_at = NULL WHERE stage <> 'closed';
UPDATE cases SET done_at = (SELECT MAX(e.at) FROM case_events e
    WHERE e.case_id = cases.id AND e.action = 'close')
    WHERE stage = 'closed';

DROP INDEX cases_status;
CREATE INDEX cases_street_stage ON cases (street, stage, id);
CREATE INDEX cases_stage ON cases (stage);
CREATE INDEX cases_assigned_grid ON cases (assigned_grid);
CREATE INDEX cases_department ON cases (department);
CREATE INDEX cases_category_reported ON cases (category, reported_at);
