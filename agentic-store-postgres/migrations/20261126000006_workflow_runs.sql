-- Workflow runs share the runs table: `kind` tells an agent run from a workflow run (whose `agent` column holds the
-- workflow's name). A workflow saves its finished steps in `output` as it goes, so a resumed run continues.
ALTER TABLE runs ADD COLUMN kind text NOT NULL DEFAULT 'agent' CHECK (kind IN ('agent', 'workflow'));
