-- Projects' shared context: one row per key, its value, a version that only grows, an expiry and who wrote it.
-- A write locks the key's row; creating a key also takes the project's advisory lock (so the key limit holds
-- under concurrent creators). An expired row stays until a new key of the project makes room, so a key's next
-- version still grows from it.
CREATE TABLE project_context (
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    project_id uuid NOT NULL,
    key text NOT NULL CHECK (length(key) BETWEEN 1 AND 200),
    value jsonb NOT NULL,
    version bigint NOT NULL,
    expires_at timestamptz NOT NULL,
    written_by jsonb NOT NULL,
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, project_id, key),
    FOREIGN KEY (tenant_id, project_id) REFERENCES projects (tenant_id, id)
);

ALTER TABLE project_context ENABLE ROW LEVEL SECURITY;
ALTER TABLE project_context FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON project_context
    USING (tenant_id = app_current_tenant()) WITH CHECK (tenant_id = app_current_tenant());
GRANT SELECT, INSERT, UPDATE, DELETE ON project_context TO agentic_app;
