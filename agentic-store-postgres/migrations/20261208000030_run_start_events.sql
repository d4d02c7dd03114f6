-- A run stored already claimed by the replica that accepted it (`wait`) is stored with its `agent.started`, in
-- one transaction: the run's start is one round trip and one commit where it took two.
DROP FUNCTION tenant_insert_run(uuid, uuid, uuid, text, jsonb, text, text, uuid, jsonb, text, bigint,
    integer, text, timestamptz, timestamptz, timestamptz, text, text, interval, uuid, uuid, text, text);
CREATE FUNCTION tenant_insert_run(
    p_tenant uuid, p_id uuid, p_project uuid, p_agent text, p_input jsonb, p_status text, p_risk text,
    p_requested_by uuid, p_output jsonb, p_error text, p_cost bigint, p_attempts integer, p_lease_owner text,
    p_lease_expires_at timestamptz, p_created_at timestamptz, p_updated_at timestamptz, p_kind text,
    p_idempotency_key text, p_key_window interval, p_schedule_id uuid, p_parent_run_id uuid, p_error_code text,
    p_traceparent text, p_event_ids uuid[], p_event_types text[], p_event_projects uuid[], p_event_runs uuid[],
    p_event_data jsonb[], p_event_times timestamptz[]
) RETURNS void
    LANGUAGE plpgsql SECURITY INVOKER SET search_path = pg_catalog, public, pg_temp
    AS $$
BEGIN
    PERFORM app_bind_tenant(p_tenant);
    IF p_idempotency_key IS NOT NULL THEN
        UPDATE runs SET idempotency_key = NULL
            WHERE tenant_id = p_tenant AND idempotency_key = p_idempotency_key
                  AND created_at < p_created_at - p_key_window;
    END IF;
    INSERT INTO runs (tenant_id, id, project_id, agent, input, status, risk_level, requested_by, output, error,
                      cost_nanos, attempts, lease_owner, lease_expires_at, created_at, updated_at, kind,
                      idempotency_key, schedule_id, parent_run_id, error_code, traceparent)
        VALUES (p_tenant, p_id, p_project, p_agent, p_input, p_status, p_risk, p_requested_by, p_output, p_error,
                p_cost, p_attempts, p_lease_owner,
                clock_timestamp() + (p_lease_expires_at - p_updated_at),
                p_created_at, p_updated_at, p_kind, p_idempotency_key, p_schedule_id, p_parent_run_id, p_error_code,
                p_traceparent);
    INSERT INTO events (tenant_id, id, type, project_id, run_id, data, occurred_at)
    SELECT p_tenant, * FROM unnest(p_event_ids, p_event_types, p_event_projects, p_event_runs, p_event_data,
                                   p_event_times);
END
$$;
REVOKE ALL ON FUNCTION tenant_insert_run(uuid, uuid, uuid, text, jsonb, text, text, uuid, jsonb, text, bigint,
    integer, text, timestamptz, timestamptz, timestamptz, text, text, interval, uuid, uuid, text, text, uuid[], text[],
    uuid[], uuid[], jsonb[], timestamptz[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tenant_insert_run(uuid, uuid, uuid, text, jsonb, text, text, uuid, jsonb, text, bigint,
    integer, text, timestamptz, timestamptz, timestamptz, text, text, interval, uuid, uuid, text, text, uuid[], text[],
    uuid[], uuid[], jsonb[], timestamptz[]) TO agentic_app;
