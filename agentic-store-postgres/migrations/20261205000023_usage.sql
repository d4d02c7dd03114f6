-- The platform's usage across tenants, for the sampled metrics gauges: runs by kind and status, the oldest queued run,
-- every project's spending and budget (those with either),
-- tenants, tenants and users active since p_active_since (a run created since), and the bytes each tenant's rows
-- take (runs, events, cost records, shared context, webhook deliveries and attempts). One call, one snapshot.
-- The system role reads (only reads) the tables it measures and did not read before.
CREATE POLICY system_cost_records ON cost_records FOR SELECT TO agentic_system USING (true);
CREATE POLICY system_project_context ON project_context FOR SELECT TO agentic_system USING (true);
CREATE POLICY system_webhook_attempts ON webhook_attempts FOR SELECT TO agentic_system USING (true);
CREATE POLICY system_projects ON projects FOR SELECT TO agentic_system USING (true);
GRANT SELECT ON cost_records, project_context, webhook_attempts, projects TO agentic_system;

CREATE FUNCTION system_usage(p_active_since timestamptz) RETURNS jsonb
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
    AS $$
    SELECT jsonb_build_object(
        'runs_by_status', (SELECT coalesce(jsonb_agg(jsonb_build_object('kind', kind, 'status', status, 'n', n)),
                                           '[]'::jsonb)
                             FROM (SELECT kind, status, count(*) AS n FROM runs GROUP BY kind, status) s),
        -- A queued run's updated_at is when it was queued (created, approved, or given back).
        'oldest_queued_at', (SELECT min(updated_at) FROM runs WHERE status = 'queued'),
        'projects', (SELECT coalesce(jsonb_agg(jsonb_build_object('id', id, 'spent', spent_nanos, 'budget', budget_nanos)),
                                     '[]'::jsonb)
                       FROM projects WHERE budget_nanos IS NOT NULL OR spent_nanos > 0),
        'tenants', (SELECT count(*) FROM tenants),
        'active_tenants', (SELECT count(DISTINCT tenant_id) FROM runs WHERE created_at >= p_active_since),
        'active_users', (SELECT count(*) FROM (SELECT DISTINCT tenant_id, requested_by FROM runs
                                                 WHERE created_at >= p_active_since) u),
        'storage_bytes', (SELECT coalesce(jsonb_object_agg(tenant_id, bytes), '{}'::jsonb) FROM (
            SELECT tenant_id, sum(bytes) AS bytes FROM (
                SELECT tenant_id, sum(pg_column_size(r.*)) AS bytes FROM runs r GROUP BY tenant_id
                UNION ALL SELECT tenant_id, sum(pg_column_size(e.*)) FROM events e GROUP BY tenant_id
                UNION ALL SELECT tenant_id, sum(pg_column_size(c.*)) FROM cost_records c GROUP BY tenant_id
                UNION ALL SELECT tenant_id, sum(pg_column_size(p.*)) FROM project_context p GROUP BY tenant_id
                UNION ALL SELECT tenant_id, sum(pg_column_size(d.*)) FROM webhook_deliveries d GROUP BY tenant_id
                UNION ALL SELECT tenant_id, sum(pg_column_size(a.*)) FROM webhook_attempts a GROUP BY tenant_id
            ) t GROUP BY tenant_id) b))
$$;
ALTER FUNCTION system_usage(timestamptz) OWNER TO agentic_system;
REVOKE ALL ON FUNCTION system_usage(timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION system_usage(timestamptz) TO agentic_app;
