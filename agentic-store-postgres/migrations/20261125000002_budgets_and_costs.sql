-- Budgets (reserve → settle) and cost records.
--
-- A project row carries its settled spending and the budget lines already announced; reservations hold the
-- worst case of calls in flight. Both functions lock the project row first, so concurrent reservations against
-- one project are decided one after the other and never together exceed the budget. They run with the caller's
-- rights (agentic_app), inside the caller's tenant-scoped transaction: row-level security still applies.

ALTER TABLE projects
    ADD COLUMN spent_nanos bigint NOT NULL DEFAULT 0 CHECK (spent_nanos >= 0),
    ADD COLUMN budget_warning_sent boolean NOT NULL DEFAULT false,
    ADD COLUMN budget_exceeded_sent boolean NOT NULL DEFAULT false;

CREATE TABLE budget_reservations (
    tenant_id uuid NOT NULL,
    id uuid NOT NULL,
    project_id uuid NOT NULL,
    amount_nanos bigint NOT NULL CHECK (amount_nanos >= 0),
    expires_at timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, project_id) REFERENCES projects (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX budget_reservations_project ON budget_reservations (tenant_id, project_id);

-- The plan's cost_records, fixed: integer money, a tenant-scoped key, non-negative counts, a real project key.
CREATE TABLE cost_records (
    tenant_id uuid NOT NULL,
    id uuid NOT NULL,
    project_id uuid NOT NULL,
    run_id uuid,
    agent text,
    operation text NOT NULL,
    provider text NOT NULL,
    model text NOT NULL,
    input_tokens bigint NOT NULL CHECK (input_tokens >= 0),
    output_tokens bigint NOT NULL CHECK (output_tokens >= 0),
    cached_input_tokens bigint NOT NULL CHECK (cached_input_tokens >= 0),
    cost_nanos bigint NOT NULL CHECK (cost_nanos >= 0),
    latency_ms bigint NOT NULL CHECK (latency_ms >= 0),
    created_at timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, project_id) REFERENCES projects (tenant_id, id)
);
CREATE INDEX cost_records_project_time ON cost_records (tenant_id, project_id, created_at);
CREATE INDEX cost_records_time ON cost_records (tenant_id, created_at);
CREATE INDEX cost_records_run ON cost_records (tenant_id, run_id) WHERE run_id IS NOT NULL;

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['budget_reservations', 'cost_records'] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY tenant_isolation ON %I USING (tenant_id = app_current_tenant()) '
                       'WITH CHECK (tenant_id = app_current_tenant())', t);
    END LOOP;
END
$$;

GRANT SELECT, INSERT, UPDATE, DELETE ON budget_reservations, cost_records TO agentic_app;

-- Holds p_amount if the budget allows it. No row: no such project. `reserved` false: refused.
CREATE FUNCTION budget_reserve(
    p_tenant uuid, p_id uuid, p_project uuid, p_amount bigint, p_expires_at timestamptz, p_now timestamptz
) RETURNS TABLE (reserved boolean, budget bigint, spent bigint, held bigint)
    LANGUAGE plpgsql SET search_path = pg_catalog, public
    AS $$
DECLARE
    v_budget bigint;
    v_spent bigint;
    v_held bigint;
BEGIN
    SELECT p.budget_nanos, p.spent_nanos INTO v_budget, v_spent
        FROM projects p WHERE p.tenant_id = p_tenant AND p.id = p_project FOR UPDATE;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    DELETE FROM budget_reservations r
        WHERE r.tenant_id = p_tenant AND r.project_id = p_project AND r.expires_at <= p_now;
    SELECT COALESCE(sum(r.amount_nanos), 0) INTO v_held
        FROM budget_reservations r WHERE r.tenant_id = p_tenant AND r.project_id = p_project;
    IF v_budget IS NOT NULL AND v_spent::numeric + v_held + p_amount > v_budget THEN
        RETURN QUERY SELECT false, v_budget, v_spent, v_held;
        RETURN;
    END IF;
    INSERT INTO budget_reservations (tenant_id, id, project_id, amount_nanos, expires_at)
        VALUES (p_tenant, p_id, p_project, p_amount, p_expires_at);
    RETURN QUERY SELECT true, v_budget, v_spent, v_held + p_amount;
END
$$;

-- Records a call's cost, adds it to the project's spending, drops its reservation, and reports the budget lines
-- this settlement crossed (each once per project).
CREATE FUNCTION budget_settle(
    p_tenant uuid, p_reservation uuid, p_id uuid, p_project uuid, p_run uuid, p_agent text, p_operation text,
    p_provider text, p_model text, p_input bigint, p_output bigint, p_cached bigint, p_cost bigint,
    p_latency_ms bigint, p_created_at timestamptz, p_now timestamptz
) RETURNS TABLE (budget bigint, spent bigint, held bigint, crossed_warning boolean, crossed_exceeded boolean)
    LANGUAGE plpgsql SET search_path = pg_catalog, public
    AS $$
DECLARE
    v_budget bigint;
    v_spent bigint;
    v_warned boolean;
    v_exceeded boolean;
    v_held bigint;
BEGIN
    -- Lock the project row before inserting: the insert's foreign-key check takes a share lock on the same row,
    -- and two settlements each holding one while waiting for the exclusive lock would deadlock.
    SELECT p.budget_nanos, p.spent_nanos + p_cost, p.budget_warning_sent, p.budget_exceeded_sent
        INTO v_budget, v_spent, v_warned, v_exceeded
        FROM projects p WHERE p.tenant_id = p_tenant AND p.id = p_project FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'project % does not exist', p_project
            USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'cost_records_project';
    END IF;
    INSERT INTO cost_records (tenant_id, id, project_id, run_id, agent, operation, provider, model, input_tokens,
                              output_tokens, cached_input_tokens, cost_nanos, latency_ms, created_at)
        VALUES (p_tenant, p_id, p_project, p_run, p_agent, p_operation, p_provider, p_model, p_input, p_output,
                p_cached, p_cost, p_latency_ms, p_created_at);
    DELETE FROM budget_reservations r WHERE r.tenant_id = p_tenant AND r.id = p_reservation;
    DELETE FROM budget_reservations r
        WHERE r.tenant_id = p_tenant AND r.project_id = p_project AND r.expires_at <= p_now;
    UPDATE projects p SET
        spent_nanos = v_spent,
        budget_warning_sent = v_warned OR (v_budget IS NOT NULL AND v_spent::numeric * 10 >= v_budget::numeric * 9),
        budget_exceeded_sent = v_exceeded OR (v_budget IS NOT NULL AND v_spent >= v_budget)
        WHERE p.tenant_id = p_tenant AND p.id = p_project;
    SELECT COALESCE(sum(r.amount_nanos), 0) INTO v_held
        FROM budget_reservations r WHERE r.tenant_id = p_tenant AND r.project_id = p_project;
    RETURN QUERY SELECT v_budget, v_spent, v_held,
        NOT v_warned AND v_budget IS NOT NULL AND v_spent::numeric * 10 >= v_budget::numeric * 9,
        NOT v_exceeded AND v_budget IS NOT NULL AND v_spent >= v_budget;
END
$$;

REVOKE ALL ON FUNCTION budget_reserve(uuid, uuid, uuid, bigint, timestamptz, timestamptz),
    budget_settle(uuid, uuid, uuid, uuid, uuid, text, text, text, text, bigint, bigint, bigint, bigint, bigint,
                  timestamptz, timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION budget_reserve(uuid, uuid, uuid, bigint, timestamptz, timestamptz),
    budget_settle(uuid, uuid, uuid, uuid, uuid, text, text, text, text, bigint, bigint, bigint, bigint, bigint,
                  timestamptz, timestamptz) TO agentic_app;
