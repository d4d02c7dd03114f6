-- The hot path of a run, one round trip per operation instead of BEGIN + set_config + query + COMMIT. Each
-- function binds the tenant (transaction-local) and runs its statement under row-level security in the same call.
-- They run as the caller (SECURITY INVOKER), so RLS applies exactly as for a query of its own; called outside an
-- explicit transaction, each is one statement's transaction and the setting ends with it.
CREATE FUNCTION tenant_get_run(p_tenant uuid, p_id uuid) RETURNS SETOF runs
    LANGUAGE plpgsql SECURITY INVOKER SET search_path = pg_catalog, public
    AS $$
BEGIN
    PERFORM set_config('app.current_tenant', p_tenant::text, true);
    RETURN QUERY SELECT * FROM runs WHERE tenant_id = p_tenant AND id = p_id;
END
$$;

CREATE FUNCTION tenant_get_agent(p_tenant uuid, p_key text) RETURNS SETOF tenant_agents
    LANGUAGE plpgsql SECURITY INVOKER SET search_path = pg_catalog, public
    AS $$
BEGIN
    PERFORM set_config('app.current_tenant', p_tenant::text, true);
    RETURN QUERY SELECT * FROM tenant_agents WHERE tenant_id = p_tenant AND key = p_key;
END
$$;

CREATE FUNCTION tenant_get_tenant(p_tenant uuid) RETURNS SETOF tenants
    LANGUAGE plpgsql SECURITY INVOKER SET search_path = pg_catalog, public
    AS $$
BEGIN
    PERFORM set_config('app.current_tenant', p_tenant::text, true);
    RETURN QUERY SELECT * FROM tenants WHERE id = p_tenant;
END
$$;

REVOKE ALL ON FUNCTION tenant_get_run(uuid, uuid), tenant_get_agent(uuid, text), tenant_get_tenant(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tenant_get_run(uuid, uuid), tenant_get_agent(uuid, text), tenant_get_tenant(uuid)
    TO agentic_app;

-- The hot writes of a run, likewise one statement each: queue it, reserve and settle each model call's budget,
-- finish it. Each is atomic as one statement's transaction.
CREATE FUNCTION tenant_insert_run(
    p_tenant uuid, p_id uuid, p_project uuid, p_agent text, p_input jsonb, p_status text, p_risk text,
    p_requested_by uuid, p_output jsonb, p_error text, p_cost bigint, p_attempts integer, p_lease_owner text,
    p_lease_expires_at timestamptz, p_created_at timestamptz, p_updated_at timestamptz, p_kind text
) RETURNS void
    LANGUAGE plpgsql SECURITY INVOKER SET search_path = pg_catalog, public
    AS $$
BEGIN
    PERFORM set_config('app.current_tenant', p_tenant::text, true);
    INSERT INTO runs (tenant_id, id, project_id, agent, input, status, risk_level, requested_by, output, error,
                      cost_nanos, attempts, lease_owner, lease_expires_at, created_at, updated_at, kind)
        VALUES (p_tenant, p_id, p_project, p_agent, p_input, p_status, p_risk, p_requested_by, p_output, p_error,
                p_cost, p_attempts, p_lease_owner, p_lease_expires_at, p_created_at, p_updated_at, p_kind);
END
$$;

CREATE FUNCTION tenant_finish_run(
    p_tenant uuid, p_id uuid, p_worker text, p_status text, p_output jsonb, p_error text, p_cost bigint,
    p_at timestamptz
) RETURNS boolean
    LANGUAGE plpgsql SECURITY INVOKER SET search_path = pg_catalog, public
    AS $$
BEGIN
    PERFORM set_config('app.current_tenant', p_tenant::text, true);
    UPDATE runs SET status = p_status, output = p_output, error = p_error, cost_nanos = p_cost, lease_owner = NULL,
                    lease_expires_at = NULL, updated_at = p_at
        WHERE tenant_id = p_tenant AND id = p_id AND status = 'running' AND lease_owner = p_worker;
    RETURN FOUND;
END
$$;

CREATE FUNCTION tenant_budget_reserve(
    p_tenant uuid, p_id uuid, p_project uuid, p_amount bigint, p_expires_at timestamptz, p_now timestamptz
) RETURNS TABLE (reserved boolean, budget bigint, spent bigint, held bigint)
    LANGUAGE plpgsql SECURITY INVOKER SET search_path = pg_catalog, public
    AS $$
BEGIN
    PERFORM set_config('app.current_tenant', p_tenant::text, true);
    RETURN QUERY SELECT * FROM budget_reserve(p_tenant, p_id, p_project, p_amount, p_expires_at, p_now);
END
$$;

CREATE FUNCTION tenant_budget_settle(
    p_tenant uuid, p_reservation uuid, p_id uuid, p_project uuid, p_run uuid, p_agent text, p_operation text,
    p_provider text, p_model text, p_input bigint, p_output bigint, p_cached bigint, p_cost bigint,
    p_latency_ms bigint, p_created_at timestamptz, p_now timestamptz
) RETURNS TABLE (budget bigint, spent bigint, held bigint, crossed_warning boolean, crossed_exceeded boolean)
    LANGUAGE plpgsql SECURITY INVOKER SET search_path = pg_catalog, public
    AS $$
BEGIN
    PERFORM set_config('app.current_tenant', p_tenant::text, true);
    RETURN QUERY SELECT * FROM budget_settle(p_tenant, p_reservation, p_id, p_project, p_run, p_agent, p_operation,
        p_provider, p_model, p_input, p_output, p_cached, p_cost, p_latency_ms, p_created_at, p_now);
END
$$;

REVOKE ALL ON FUNCTION
    tenant_insert_run(uuid, uuid, uuid, text, jsonb, text, text, uuid, jsonb, text, bigint, integer, text,
                      timestamptz, timestamptz, timestamptz, text),
    tenant_finish_run(uuid, uuid, text, text, jsonb, text, bigint, timestamptz),
    tenant_budget_reserve(uuid, uuid, uuid, bigint, timestamptz, timestamptz),
    tenant_budget_settle(uuid, uuid, uuid, uuid, uuid, text, text, text, text, bigint, bigint, bigint, bigint,
                         bigint, timestamptz, timestamptz)
    FROM PUBLIC;
GRANT EXECUTE ON FUNCTION
    tenant_insert_run(uuid, uuid, uuid, text, jsonb, text, text, uuid, jsonb, text, bigint, integer, text,
                      timestamptz, timestamptz, timestamptz, text),
    tenant_finish_run(uuid, uuid, text, text, jsonb, text, bigint, timestamptz),
    tenant_budget_reserve(uuid, uuid, uuid, bigint, timestamptz, timestamptz),
    tenant_budget_settle(uuid, uuid, uuid, uuid, uuid, text, text, text, text, bigint, bigint, bigint, bigint,
                         bigint, timestamptz, timestamptz)
    TO agentic_app;
