-- Durable runs. Workers claim across tenants through one SECURITY DEFINER function (FOR UPDATE SKIP LOCKED, so
-- concurrent claimers never take the same run); everything else goes through the tenant-scoped handle.
CREATE TABLE runs (
    tenant_id uuid NOT NULL,
    id uuid NOT NULL,
    project_id uuid NOT NULL,
    agent text NOT NULL,
    input jsonb NOT NULL,
    status text NOT NULL CHECK (status IN ('queued', 'running', 'completed', 'failed')),
    risk_level text NOT NULL CHECK (risk_level IN ('low', 'medium', 'high')),
    requested_by uuid NOT NULL,
    output jsonb,
    error text,
    cost_nanos bigint NOT NULL DEFAULT 0 CHECK (cost_nanos >= 0),
    attempts integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    lease_owner text,
    lease_expires_at timestamptz,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, project_id) REFERENCES projects (tenant_id, id),
    FOREIGN KEY (tenant_id, requested_by) REFERENCES users (tenant_id, id)
);
CREATE INDEX runs_claimable ON runs (id) WHERE status IN ('queued', 'running');

ALTER TABLE runs ENABLE ROW LEVEL SECURITY;
ALTER TABLE runs FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON runs
    USING (tenant_id = app_current_tenant()) WITH CHECK (tenant_id = app_current_tenant());
CREATE POLICY system_runs ON runs FOR ALL TO agentic_system USING (true) WITH CHECK (true);
GRANT SELECT, INSERT, UPDATE ON runs TO agentic_app;
GRANT SELECT, UPDATE ON runs TO agentic_system;

CREATE FUNCTION system_claim_runs(p_worker text, p_now timestamptz, p_lease_until timestamptz, p_limit integer)
    RETURNS SETOF runs
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public
    AS $$
BEGIN
    RETURN QUERY
    UPDATE runs r SET status = 'running', lease_owner = p_worker, lease_expires_at = p_lease_until,
                      attempts = r.attempts + 1, updated_at = p_now
    WHERE (r.tenant_id, r.id) IN (
        SELECT c.tenant_id, c.id FROM runs c
        WHERE c.status = 'queued' OR (c.status = 'running' AND c.lease_expires_at < p_now)
        ORDER BY c.id
        LIMIT p_limit
        FOR UPDATE SKIP LOCKED
    )
    RETURNING r.*;
END
$$;
ALTER FUNCTION system_claim_runs(text, timestamptz, timestamptz, integer) OWNER TO agentic_system;
REVOKE ALL ON FUNCTION system_claim_runs(text, timestamptz, timestamptz, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION system_claim_runs(text, timestamptz, timestamptz, integer) TO agentic_app;
