-- The transactional outbox for the rest of the state changes that cause events: a run's end (`agent.*`,
-- `workflow.*`), a settlement that crosses a budget line (`project.budget_*`) and an expired approval request
-- (`approval.expired`) store their events in the same transaction as the change, so neither happens without the
-- other. The run end and the settlement stay one statement each (the hot path of migration
-- single_statement_hot_path): the events ride in the same call.

-- Money as the API writes it (agentic_core::model::Money's Display): decimal dollars with two to nine fractional
-- digits. Events built in SQL (budget lines) use it; a conformance case compares them with the Rust-built ones.
CREATE FUNCTION money_text(p_nanos bigint) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT SET search_path = pg_catalog, public, pg_temp
    AS $$
    SELECT CASE WHEN scale(trim_scale(p_nanos::numeric / 1000000000)) < 2
                THEN round(p_nanos::numeric / 1000000000, 2)::text
                ELSE trim_scale(p_nanos::numeric / 1000000000)::text END
$$;

DROP FUNCTION tenant_finish_run(uuid, uuid, text, integer, text, jsonb, text, bigint, timestamptz);
CREATE FUNCTION tenant_finish_run(
    p_tenant uuid, p_id uuid, p_worker text, p_attempt integer, p_status text, p_output jsonb, p_error text,
    p_cost bigint, p_at timestamptz, p_event_ids uuid[], p_event_types text[], p_event_projects uuid[],
    p_event_runs uuid[], p_event_data jsonb[], p_event_times timestamptz[]
) RETURNS boolean
    LANGUAGE plpgsql SECURITY INVOKER SET search_path = pg_catalog, public, pg_temp
    AS $$
BEGIN
    PERFORM app_bind_tenant(p_tenant);
    UPDATE runs SET status = p_status, output = p_output, error = p_error, cost_nanos = p_cost, lease_owner = NULL,
                    lease_expires_at = NULL, updated_at = p_at
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
    text[], uuid[], uuid[], jsonb[], timestamptz[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tenant_finish_run(uuid, uuid, text, integer, text, jsonb, text, bigint, timestamptz,
    uuid[], text[], uuid[], uuid[], jsonb[], timestamptz[]) TO agentic_app;

-- A settlement stores the events of the lines it crosses; the caller names their ids (UUID v7, made by the
-- store in Rust so that ids stay time-ordered on every PostgreSQL version).
DROP FUNCTION tenant_budget_settle(uuid, uuid, uuid, uuid, uuid, text, text, text, text, bigint, bigint, bigint,
    bigint, bigint, timestamptz, timestamptz);
CREATE FUNCTION tenant_budget_settle(
    p_tenant uuid, p_reservation uuid, p_id uuid, p_project uuid, p_run uuid, p_agent text, p_operation text,
    p_provider text, p_model text, p_input bigint, p_output bigint, p_cached bigint, p_cost bigint,
    p_latency_ms bigint, p_created_at timestamptz, p_now timestamptz, p_warning_event uuid, p_exceeded_event uuid
) RETURNS TABLE (budget bigint, spent bigint, held bigint, crossed_warning boolean, crossed_exceeded boolean)
    LANGUAGE plpgsql SECURITY INVOKER SET search_path = pg_catalog, public, pg_temp
    AS $$
DECLARE
    v record;
BEGIN
    PERFORM app_bind_tenant(p_tenant);
    SELECT * INTO v FROM budget_settle(p_tenant, p_reservation, p_id, p_project, p_run, p_agent, p_operation,
        p_provider, p_model, p_input, p_output, p_cached, p_cost, p_latency_ms, p_created_at, p_now) s;
    IF v.crossed_warning OR v.crossed_exceeded THEN
        INSERT INTO events (tenant_id, id, type, project_id, run_id, data, occurred_at)
        SELECT p_tenant, line.id, line.type, p_project, NULL,
               jsonb_build_object('project_id', p_project, 'budget', money_text(v.budget),
                                  'spent', money_text(v.spent)),
               p_now
        FROM (VALUES (p_warning_event, 'project.budget_warning', v.crossed_warning),
                     (p_exceeded_event, 'project.budget_exceeded', v.crossed_exceeded)) AS line (id, type, crossed)
        WHERE line.crossed;
    END IF;
    RETURN QUERY SELECT v.budget, v.spent, v.held, v.crossed_warning, v.crossed_exceeded;
END
$$;
REVOKE ALL ON FUNCTION tenant_budget_settle(uuid, uuid, uuid, uuid, uuid, text, text, text, text, bigint, bigint,
    bigint, bigint, bigint, timestamptz, timestamptz, uuid, uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tenant_budget_settle(uuid, uuid, uuid, uuid, uuid, text, text, text, text, bigint, bigint,
    bigint, bigint, bigint, timestamptz, timestamptz, uuid, uuid) TO agentic_app;

-- Events of several tenants at once, for the sweeps that change several tenants' rows in one transaction (the
-- approval expiry): called inside that transaction, after the change.
GRANT INSERT ON events TO agentic_system;
CREATE FUNCTION system_append_events(
    p_tenants uuid[], p_ids uuid[], p_types text[], p_projects uuid[], p_runs uuid[], p_data jsonb[],
    p_occurred timestamptz[]
) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
    AS $$
BEGIN
    INSERT INTO events (tenant_id, id, type, project_id, run_id, data, occurred_at)
    SELECT * FROM unnest(p_tenants, p_ids, p_types, p_projects, p_runs, p_data, p_occurred);
END
$$;
ALTER FUNCTION system_append_events(uuid[], uuid[], text[], uuid[], uuid[], jsonb[], timestamptz[])
    OWNER TO agentic_system;
REVOKE ALL ON FUNCTION system_append_events(uuid[], uuid[], text[], uuid[], uuid[], jsonb[], timestamptz[])
    FROM PUBLIC;
GRANT EXECUTE ON FUNCTION system_append_events(uuid[], uuid[], text[], uuid[], uuid[], jsonb[], timestamptz[])
    TO agentic_app;
