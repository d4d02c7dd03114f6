-- Approval gates: runs may wait for approval or end denied; each request is decided together with its run.
ALTER TABLE runs DROP CONSTRAINT runs_status_check;
ALTER TABLE runs ADD CONSTRAINT runs_status_check
    CHECK (status IN ('queued', 'awaiting_approval', 'running', 'completed', 'failed', 'denied'));

CREATE TABLE approvals (
    tenant_id uuid NOT NULL,
    id uuid NOT NULL,
    run_id uuid NOT NULL,
    status text NOT NULL CHECK (status IN ('pending', 'approved', 'denied', 'expired')),
    requested_by uuid NOT NULL,
    decided_by uuid,
    comment text CHECK (length(comment) <= 2000),
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    decided_at timestamptz,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, run_id) REFERENCES runs (tenant_id, id)
);
CREATE INDEX approvals_status ON approvals (tenant_id, status, id);

ALTER TABLE approvals ENABLE ROW LEVEL SECURITY;
ALTER TABLE approvals FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON approvals
    USING (tenant_id = app_current_tenant()) WITH CHECK (tenant_id = app_current_tenant());
GRANT SELECT, INSERT, UPDATE ON approvals TO agentic_app;
