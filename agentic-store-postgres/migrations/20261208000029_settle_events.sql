-- A settlement stores the call's own events (its `run.llm_call`) in its transaction, ahead of the budget lines'
-- events: one round trip and one commit where a model call took two.
DROP FUNCTION tenant_budget_settle(uuid, uuid, uuid, uuid, uuid, text, text, text, text, bigint, bigint, bigint,
    bigint, bigint, timestamptz, timestamptz, uuid, uuid);
CREATE FUNCTION tenant_budget_settle(
    p_tenant uuid, p_reservation uuid, p_id uuid, p_project uuid, p_run uuid, p_agent text, p_operation text,
    p_provider text, p_model text, p_input bigint, p_output bigint, p_cached bigint, p_cost bigint,
    p_latency_ms bigint, p_created_at timestamptz, p_now timestamptz, p_warning_event uuid, p_exceeded_event uuid,
    p_event_ids uuid[], p_event_types text[], p_event_projects uuid[], p_event_runs uuid[], p_event_data jsonb[],
    p_event_times timestamptz[]
) RETURNS TABLE (budget bigint, spent bigint, held bigint, crossed_warning boolean, crossed_exceeded boolean)
    LANGUAGE plpgsql SECURITY INVOKER SET search_path = pg_catalog, public, pg_temp
    AS $$
DECLARE
    v record;
BEGIN
    PERFORM app_bind_tenant(p_tenant);
    SELECT * INTO v FROM budget_settle(p_tenant, p_reservation, p_id, p_project, p_run, p_agent, p_operation,
        p_provider, p_model, p_input, p_output, p_cached, p_cost, p_latency_ms, p_created_at, p_now) s;
    INSERT INTO events (tenant_id, id, type, project_id, run_id, data, occurred_at)
    SELECT p_tenant, * FROM unnest(p_event_ids, p_event_types, p_event_projects, p_event_runs, p_event_data,
                                   p_event_times);
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
    bigint, bigint, bigint, timestamptz, timestamptz, uuid, uuid, uuid[], text[], uuid[], uuid[], jsonb[],
    timestamptz[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tenant_budget_settle(uuid, uuid, uuid, uuid, uuid, text, text, text, text, bigint, bigint,
    bigint, bigint, bigint, timestamptz, timestamptz, uuid, uuid, uuid[], text[], uuid[], uuid[], jsonb[],
    timestamptz[]) TO agentic_app;
