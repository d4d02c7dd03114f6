-- Events of a tenant: what happened (run ended, approval decided, budget line crossed), kept for listing and
-- delivery. `id` is a UUID v7, so its order is time order; listing filters by type, project or run.
CREATE TABLE events (
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    id uuid NOT NULL,
    type text NOT NULL CHECK (type ~ '^[a-z_]+\.[a-z_]+$'),
    project_id uuid,
    run_id uuid,
    data jsonb NOT NULL,
    occurred_at timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX events_by_type ON events (tenant_id, type, id);
CREATE INDEX events_by_project ON events (tenant_id, project_id, id) WHERE project_id IS NOT NULL;
CREATE INDEX events_by_run ON events (tenant_id, run_id, id) WHERE run_id IS NOT NULL;

ALTER TABLE events ENABLE ROW LEVEL SECURITY;
ALTER TABLE events FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON events
    USING (tenant_id = app_current_tenant()) WITH CHECK (tenant_id = app_current_tenant());
GRANT SELECT, INSERT, DELETE ON events TO agentic_app;
