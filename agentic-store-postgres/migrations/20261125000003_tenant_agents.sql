-- Agents a tenant defines (additions to and overrides of the built-in catalog): the YAML verbatim, and its
-- validated form as JSON.
CREATE TABLE tenant_agents (
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    key text NOT NULL CHECK (key ~ '^[a-z][a-z0-9_]{1,63}$'),
    yaml text NOT NULL CHECK (length(yaml) <= 65536),
    spec jsonb NOT NULL,
    updated_by uuid NOT NULL,
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, key),
    FOREIGN KEY (tenant_id, updated_by) REFERENCES users (tenant_id, id)
);

ALTER TABLE tenant_agents ENABLE ROW LEVEL SECURITY;
ALTER TABLE tenant_agents FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON tenant_agents
    USING (tenant_id = app_current_tenant()) WITH CHECK (tenant_id = app_current_tenant());
GRANT SELECT, INSERT, UPDATE, DELETE ON tenant_agents TO agentic_app;
