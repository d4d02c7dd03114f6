-- Approval requests nobody decided in time expire on their own: a sweep (run by the workers) marks them `expired`
-- and their runs `denied`, across tenants, through one SECURITY DEFINER function like the run claim.
CREATE INDEX approvals_pending_expiry ON approvals (expires_at) WHERE status = 'pending';

CREATE POLICY system_approvals ON approvals FOR ALL TO agentic_system USING (true) WITH CHECK (true);
GRANT SELECT, UPDATE ON approvals TO agentic_system;

CREATE FUNCTION system_expire_approvals(p_now timestamptz, p_limit integer)
    RETURNS SETOF approvals
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public
    AS $$
BEGIN
    -- Data-modifying CTEs run exactly once whether or not the outer query reads them: the runs are denied in the
    -- same statement as their requests expire. SKIP LOCKED leaves a request being decided to its decision.
    RETURN QUERY
    WITH expired AS (
        UPDATE approvals a SET status = 'expired', decided_at = p_now
        WHERE (a.tenant_id, a.id) IN (
            SELECT c.tenant_id, c.id FROM approvals c
            WHERE c.status = 'pending' AND c.expires_at <= p_now
            ORDER BY c.expires_at
            LIMIT p_limit
            FOR UPDATE SKIP LOCKED
        )
        RETURNING a.*
    ), denied AS (
        UPDATE runs r SET status = 'denied', error = 'approval expired', updated_at = p_now
        FROM expired e
        WHERE r.tenant_id = e.tenant_id AND r.id = e.run_id AND r.status = 'awaiting_approval'
        RETURNING r.id
    )
    SELECT e.* FROM expired e ORDER BY e.expires_at;
END
$$;
ALTER FUNCTION system_expire_approvals(timestamptz, integer) OWNER TO agentic_system;
REVOKE ALL ON FUNCTION system_expire_approvals(timestamptz, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION system_expire_approvals(timestamptz, integer) TO agentic_app;
