-- Storing events outside an outbox transaction is one statement, like the rest of a run's hot path (migration
-- single_statement_hot_path): the function binds the tenant and inserts the batch under row-level security, as
-- the caller, instead of BEGIN + set_config + INSERT + COMMIT.
CREATE FUNCTION tenant_append_events(
    p_tenant uuid, p_ids uuid[], p_types text[], p_projects uuid[], p_runs uuid[], p_data jsonb[],
    p_occurred timestamptz[]
) RETURNS void
    LANGUAGE plpgsql SECURITY INVOKER SET search_path = pg_catalog, public, pg_temp
    AS $$
BEGIN
    PERFORM app_bind_tenant(p_tenant);
    INSERT INTO events (tenant_id, id, type, project_id, run_id, data, occurred_at)
    SELECT p_tenant, * FROM unnest(p_ids, p_types, p_projects, p_runs, p_data, p_occurred);
END
$$;
REVOKE ALL ON FUNCTION tenant_append_events(uuid, uuid[], text[], uuid[], uuid[], jsonb[], timestamptz[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tenant_append_events(uuid, uuid[], text[], uuid[], uuid[], jsonb[], timestamptz[])
    TO agentic_app;
