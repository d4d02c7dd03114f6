-- A failed run records what kind of failure it was: the problem type's slug (`budget-exceeded`, `llm-failed`, …),
-- so clients branch on it rather than on the reason's words. It rides in the run's finish (one statement, as before).
ALTER TABLE runs ADD COLUMN error_code text;

DROP FUNCTION tenant_finish_run(uuid, uuid, text, integer, text, jsonb, text, bigint, timestamptz, uuid[], text[],
    uuid[], uuid[], jsonb[], timestamptz[]);
CREATE FUNCTION tenant_finish_run(
    p_tenant uuid, p_id uuid, p_worker text, p_attempt integer, p_status text, p_output jsonb, p_error text,
    p_cost bigint, p_at timestamptz, p_event_ids uuid[], p_event_types text[], p_event_projects uuid[],
    p_event_runs uuid[], p_event_data jsonb[], p_event_times timestamptz[], p_error_code text
) RETURNS boolean
    LANGUAGE plpgsql SECURITY INVOKER SET search_path = pg_catalog, public, pg_temp
    AS $$
BEGIN
    PERFORM app_bind_tenant(p_tenant);
    UPDATE runs SET status = p_status, output = p_output, error = p_error, error_code = p_error_code,
                    cost_nanos = p_cost, lease_owner = NULL, lease_expires_at = NULL, updated_at = p_at
        WHERE tenant_id = p_tenant AND id = p_id AND status = 'running' AND lease_owner = p_worker
              AND attempts = p_attempt;
    IF NOT FOUND THEN
        RETURN false;
    END IF;
    INSERT INTO events (tenant_id, id, type, project_id, run_id, data, occurred_at)
    SELECT p_tenant, * FROM unnest(p_event_ids, p_event_types, p_event_projects, p_event_runs, p_event_data,
                                   p_event_times);
    RETURN true;
END
$$;
REVOKE ALL ON FUNCTION tenant_finish_run(uuid, uuid, text, integer, text, jsonb, text, bigint, timestamptz, uuid[],
    text[], uuid[], uuid[], jsonb[], timestamptz[], text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tenant_finish_run(uuid, uuid, text, integer, text, jsonb, text, bigint, timestamptz,
    uuid[], text[], uuid[], uuid[], jsonb[], timestamptz[], text) TO agentic_app;
