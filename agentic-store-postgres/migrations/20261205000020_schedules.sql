-- Schedules: each row is one schedule's definition and state (`record`, the JSON of
-- agentic_core::model::Schedule), with the columns the claims need beside it. One holder writes a schedule at a
-- time: a claim is a lease (on the database's clock) and bumps `version`, the fencing token every write compares.
-- A run a schedule started names it (`runs.schedule_id`); its idempotency key names the fire, so a fire acted on
-- twice (a holder overtaken after its lease lapsed) still starts one run.

ALTER TABLE runs ADD COLUMN schedule_id uuid;
CREATE INDEX runs_by_schedule ON runs (tenant_id, schedule_id, id) WHERE schedule_id IS NOT NULL;

-- `tenant_insert_run` takes the column from migration `run_handoffs` on, which defines it once for both.

CREATE TABLE schedules (
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    id uuid NOT NULL,
    project_id uuid NOT NULL,
    record jsonb NOT NULL,
    paused boolean NOT NULL,
    wake_at timestamptz,
    version bigint NOT NULL,
    lease_owner text,
    lease_until timestamptz,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, project_id) REFERENCES projects (tenant_id, id)
);
-- What schedulers claim: schedules that are not paused, by when they are due.
CREATE INDEX schedules_due ON schedules (wake_at) WHERE NOT paused AND wake_at IS NOT NULL;

ALTER TABLE schedules ENABLE ROW LEVEL SECURITY;
ALTER TABLE schedules FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON schedules
    USING (tenant_id = app_current_tenant()) WITH CHECK (tenant_id = app_current_tenant());
GRANT SELECT, INSERT, UPDATE, DELETE ON schedules TO agentic_app;

-- The schedulers' claim crosses tenants, through SECURITY DEFINER functions only.
CREATE POLICY system_schedules ON schedules FOR ALL TO agentic_system USING (true) WITH CHECK (true);
GRANT SELECT, UPDATE ON schedules TO agentic_system;

-- Claims up to p_limit due schedules that no lease holds, soonest first, for p_holder for p_lease (on the
-- database's clock); each claim bumps the version.
CREATE FUNCTION system_claim_schedules(p_holder text, p_now timestamptz, p_lease interval, p_limit integer)
    RETURNS TABLE (record jsonb, version bigint)
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
    AS $$
DECLARE
    v_clock timestamptz := clock_timestamp();
BEGIN
    RETURN QUERY
    UPDATE schedules s SET version = s.version + 1, lease_owner = p_holder, lease_until = v_clock + p_lease
    WHERE (s.tenant_id, s.id) IN (
        SELECT c.tenant_id, c.id FROM schedules c
        WHERE NOT c.paused AND c.wake_at <= p_now AND (c.lease_until IS NULL OR c.lease_until <= v_clock)
        ORDER BY c.wake_at
        LIMIT p_limit
        FOR UPDATE SKIP LOCKED
    )
    RETURNING s.record, s.version;
END
$$;
ALTER FUNCTION system_claim_schedules(text, timestamptz, interval, integer) OWNER TO agentic_system;
REVOKE ALL ON FUNCTION system_claim_schedules(text, timestamptz, interval, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION system_claim_schedules(text, timestamptz, interval, integer) TO agentic_app;

-- When a scheduler should look next: the earliest wake of an unclaimed schedule that is not paused, or for a
-- claimed one the later of its wake and its lease's end (the claimed ones are few: the second index finds them).
CREATE INDEX schedules_leased ON schedules (lease_until) WHERE lease_owner IS NOT NULL;
CREATE FUNCTION system_next_schedule_wake() RETURNS timestamptz
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
    AS $$
    SELECT least(
        (SELECT wake_at FROM schedules
            WHERE NOT paused AND wake_at IS NOT NULL AND lease_owner IS NULL ORDER BY wake_at LIMIT 1),
        (SELECT min(greatest(wake_at, lease_until)) FROM schedules
            WHERE lease_owner IS NOT NULL AND NOT paused AND wake_at IS NOT NULL))
$$;
ALTER FUNCTION system_next_schedule_wake() OWNER TO agentic_system;
REVOKE ALL ON FUNCTION system_next_schedule_wake() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION system_next_schedule_wake() TO agentic_app;
