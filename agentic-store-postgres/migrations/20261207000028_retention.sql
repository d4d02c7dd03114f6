-- Retention: the upkeep loop deletes ended runs and folds old cost records into per-day roll-ups, across
-- tenants, in batches, through SECURITY DEFINER functions like the event sweep. Cost summaries read the roll-ups
-- beside the records still kept, so a tenant's totals survive retention.

-- A run's approval requests go with it.
ALTER TABLE approvals DROP CONSTRAINT approvals_tenant_id_run_id_fkey;
ALTER TABLE approvals ADD CONSTRAINT approvals_tenant_id_run_id_fkey
    FOREIGN KEY (tenant_id, run_id) REFERENCES runs (tenant_id, id) ON DELETE CASCADE;

-- The sweeps read the oldest first: an index each, so a sweep that finds nothing due is one index probe.
CREATE INDEX runs_ended ON runs (updated_at) WHERE status IN ('completed', 'failed', 'denied', 'cancelled');
CREATE INDEX cost_records_by_age ON cost_records (created_at);

CREATE TABLE cost_rollups (
    tenant_id uuid NOT NULL,
    day date NOT NULL,
    project_id uuid NOT NULL,
    agent text,
    operation text NOT NULL,
    provider text NOT NULL,
    model text NOT NULL,
    calls bigint NOT NULL CHECK (calls >= 0),
    input_tokens bigint NOT NULL CHECK (input_tokens >= 0),
    output_tokens bigint NOT NULL CHECK (output_tokens >= 0),
    cached_input_tokens bigint NOT NULL CHECK (cached_input_tokens >= 0),
    cost_nanos bigint NOT NULL CHECK (cost_nanos >= 0),
    -- A record without an agent rolls up with the others without one.
    CONSTRAINT cost_rollups_key UNIQUE NULLS NOT DISTINCT (tenant_id, day, project_id, agent, operation, provider, model)
);

ALTER TABLE cost_rollups ENABLE ROW LEVEL SECURITY;
ALTER TABLE cost_rollups FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON cost_rollups
    USING (tenant_id = app_current_tenant()) WITH CHECK (tenant_id = app_current_tenant());
CREATE POLICY system_cost_rollups ON cost_rollups FOR ALL TO agentic_system USING (true) WITH CHECK (true);
GRANT SELECT ON cost_rollups TO agentic_app;
GRANT SELECT, INSERT, UPDATE ON cost_rollups TO agentic_system;

CREATE POLICY system_cost_records_delete ON cost_records FOR DELETE TO agentic_system USING (true);
GRANT DELETE ON runs, cost_records TO agentic_system;

CREATE FUNCTION system_delete_runs_ended_before(p_cutoff timestamptz, p_limit integer)
    RETURNS bigint
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
    AS $$
DECLARE
    deleted bigint;
BEGIN
    DELETE FROM runs r
    WHERE (r.tenant_id, r.id) IN (
        SELECT o.tenant_id, o.id FROM runs o
        WHERE o.status IN ('completed', 'failed', 'denied', 'cancelled') AND o.updated_at < p_cutoff
        ORDER BY o.updated_at LIMIT p_limit
    );
    GET DIAGNOSTICS deleted = ROW_COUNT;
    RETURN deleted;
END
$$;
ALTER FUNCTION system_delete_runs_ended_before(timestamptz, integer) OWNER TO agentic_system;
REVOKE ALL ON FUNCTION system_delete_runs_ended_before(timestamptz, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION system_delete_runs_ended_before(timestamptz, integer) TO agentic_app;

-- One statement: the records a concurrent sweep deleted first are not returned here (a deleted row is skipped
-- after its lock), so each record is folded once.
CREATE FUNCTION system_roll_up_cost_records_before(p_cutoff timestamptz, p_limit integer)
    RETURNS bigint
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
    AS $$
DECLARE
    folded bigint;
BEGIN
    WITH moved AS (
        DELETE FROM cost_records c
        WHERE (c.tenant_id, c.id) IN (
            SELECT o.tenant_id, o.id FROM cost_records o WHERE o.created_at < p_cutoff
            ORDER BY o.created_at LIMIT p_limit
        )
        RETURNING c.*
    ), summed AS (
        INSERT INTO cost_rollups AS r (tenant_id, day, project_id, agent, operation, provider, model, calls,
                                       input_tokens, output_tokens, cached_input_tokens, cost_nanos)
        SELECT m.tenant_id, (m.created_at AT TIME ZONE 'UTC')::date, m.project_id, m.agent, m.operation,
               m.provider, m.model, count(*), sum(m.input_tokens)::bigint, sum(m.output_tokens)::bigint,
               sum(m.cached_input_tokens)::bigint, sum(m.cost_nanos)::bigint
        FROM moved m
        GROUP BY 1, 2, 3, 4, 5, 6, 7
        ON CONFLICT ON CONSTRAINT cost_rollups_key DO UPDATE SET
            calls = r.calls + excluded.calls,
            input_tokens = r.input_tokens + excluded.input_tokens,
            output_tokens = r.output_tokens + excluded.output_tokens,
            cached_input_tokens = r.cached_input_tokens + excluded.cached_input_tokens,
            cost_nanos = r.cost_nanos + excluded.cost_nanos
        RETURNING 1
    )
    SELECT count(*) INTO folded FROM moved;
    RETURN folded;
END
$$;
ALTER FUNCTION system_roll_up_cost_records_before(timestamptz, integer) OWNER TO agentic_system;
REVOKE ALL ON FUNCTION system_roll_up_cost_records_before(timestamptz, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION system_roll_up_cost_records_before(timestamptz, integer) TO agentic_app;
