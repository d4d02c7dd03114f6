-- Run leases, fenced and on the database's clock.
--
-- Every write by a worker (renew, finish, release) names the attempt it works as well as the worker: a takeover
-- claims attempt + 1, so a worker that lost its run (even one restarted under the same name) matches no row.
-- Claims and renewals measure leases on clock_timestamp(), the one clock every replica shares, instead of each
-- replica's own. Releasing gives a run back unfinished on shutdown: queued again at once, its attempt not counted.

DROP FUNCTION system_claim_runs(text, timestamptz, timestamptz, integer);
CREATE FUNCTION system_claim_runs(p_worker text, p_now timestamptz, p_lease interval, p_limit integer)
    RETURNS SETOF runs
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
    AS $$
DECLARE
    v_clock timestamptz := clock_timestamp();
BEGIN
    RETURN QUERY
    UPDATE runs r SET status = 'running', lease_owner = p_worker, lease_expires_at = v_clock + p_lease,
                      attempts = r.attempts + 1, updated_at = p_now
    WHERE (r.tenant_id, r.id) IN (
        SELECT c.tenant_id, c.id FROM runs c
        WHERE c.status = 'queued' OR (c.status = 'running' AND c.lease_expires_at < v_clock)
        ORDER BY c.id
        LIMIT p_limit
        FOR UPDATE SKIP LOCKED
    )
    RETURNING r.*;
END
$$;
ALTER FUNCTION system_claim_runs(text, timestamptz, interval, integer) OWNER TO agentic_system;
REVOKE ALL ON FUNCTION system_claim_runs(text, timestamptz, interval, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION system_claim_runs(text, timestamptz, interval, integer) TO agentic_app;

DROP FUNCTION tenant_finish_run(uuid, uuid, text, text, jsonb, text, bigint, timestamptz);
CREATE FUNCTION tenant_finish_run(
    p_tenant uuid, p_id uuid, p_worker text, p_attempt integer, p_status text, p_output jsonb, p_error text,
    p_cost bigint, p_at timestamptz
) RETURNS boolean
    LANGUAGE plpgsql SECURITY INVOKER SET search_path = pg_catalog, public, pg_temp
    AS $$
BEGIN
    PERFORM app_bind_tenant(p_tenant);
    UPDATE runs SET status = p_status, output = p_output, error = p_error, cost_nanos = p_cost, lease_owner = NULL,
                    lease_expires_at = NULL, updated_at = p_at
        WHERE tenant_id = p_tenant AND id = p_id AND status = 'running' AND lease_owner = p_worker
              AND attempts = p_attempt;
    RETURN FOUND;
END
$$;

CREATE FUNCTION tenant_renew_run(
    p_tenant uuid, p_id uuid, p_worker text, p_attempt integer, p_lease interval, p_save boolean,
    p_output jsonb, p_cost bigint, p_at timestamptz
) RETURNS boolean
    LANGUAGE plpgsql SECURITY INVOKER SET search_path = pg_catalog, public, pg_temp
    AS $$
BEGIN
    PERFORM app_bind_tenant(p_tenant);
    UPDATE runs SET lease_expires_at = clock_timestamp() + p_lease, updated_at = p_at,
                    output = CASE WHEN p_save THEN p_output ELSE output END,
                    cost_nanos = CASE WHEN p_save THEN p_cost ELSE cost_nanos END
        WHERE tenant_id = p_tenant AND id = p_id AND status = 'running' AND lease_owner = p_worker
              AND attempts = p_attempt;
    RETURN FOUND;
END
$$;

CREATE FUNCTION tenant_release_run(p_tenant uuid, p_id uuid, p_worker text, p_attempt integer, p_at timestamptz)
    RETURNS boolean
    LANGUAGE plpgsql SECURITY INVOKER SET search_path = pg_catalog, public, pg_temp
    AS $$
BEGIN
    PERFORM app_bind_tenant(p_tenant);
    UPDATE runs SET status = 'queued', lease_owner = NULL, lease_expires_at = NULL,
                    attempts = GREATEST(attempts - 1, 0), updated_at = p_at
        WHERE tenant_id = p_tenant AND id = p_id AND status = 'running' AND lease_owner = p_worker
              AND attempts = p_attempt;
    RETURN FOUND;
END
$$;

REVOKE ALL ON FUNCTION
    tenant_finish_run(uuid, uuid, text, integer, text, jsonb, text, bigint, timestamptz),
    tenant_renew_run(uuid, uuid, text, integer, interval, boolean, jsonb, bigint, timestamptz),
    tenant_release_run(uuid, uuid, text, integer, timestamptz)
    FROM PUBLIC;
GRANT EXECUTE ON FUNCTION
    tenant_finish_run(uuid, uuid, text, integer, text, jsonb, text, bigint, timestamptz),
    tenant_renew_run(uuid, uuid, text, integer, interval, boolean, jsonb, bigint, timestamptz),
    tenant_release_run(uuid, uuid, text, integer, timestamptz)
    TO agentic_app;
