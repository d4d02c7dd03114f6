-- Handoffs: a run an agent handed work to names the run it came from (`GET /v1/runs/{id}/handoffs` lists them).
-- It is recorded when it has ended, so its insert also takes the error code; and it takes the schedule that
-- started a run (the column of migration `schedules`).
ALTER TABLE runs ADD COLUMN parent_run_id uuid;
CREATE INDEX runs_by_parent ON runs (tenant_id, parent_run_id, id) WHERE parent_run_id IS NOT NULL;

DROP FUNCTION tenant_insert_run(uuid, uuid, uuid, text, jsonb, text, text, uuid, jsonb, text, bigint, integer, text,
    timestamptz, timestamptz, timestamptz, text, text, interval);
CREATE FUNCTION tenant_insert_run(
    p_tenant uuid, p_id uuid, p_project uuid, p_agent text, p_input jsonb, p_status text, p_risk text,
    p_requested_by uuid, p_output jsonb, p_error text, p_cost bigint, p_attempts integer, p_lease_owner text,
    p_lease_expires_at timestamptz, p_created_at timestamptz, p_updated_at timestamptz, p_kind text,
    p_idempotency_key text, p_key_window interval, p_schedule_id uuid, p_parent_run_id uuid, p_error_code text
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
                      idempotency_key, schedule_id, parent_run_id, error_code)
        VALUES (p_tenant, p_id, p_project, p_agent, p_input, p_status, p_risk, p_requested_by, p_output, p_error,
                p_cost, p_attempts, p_lease_owner, p_lease_expires_at, p_created_at, p_updated_at, p_kind,
                p_idempotency_key, p_schedule_id, p_parent_run_id, p_error_code);
END
$$;
REVOKE ALL ON FUNCTION tenant_insert_run(uuid, uuid, uuid, text, jsonb, text, text, uuid, jsonb, text, bigint,
    integer, text, timestamptz, timestamptz, timestamptz, text, text, interval, uuid, uuid, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tenant_insert_run(uuid, uuid, uuid, text, jsonb, text, text, uuid, jsonb, text, bigint,
    integer, text, timestamptz, timestamptz, timestamptz, text, text, interval, uuid, uuid, text) TO agentic_app;
