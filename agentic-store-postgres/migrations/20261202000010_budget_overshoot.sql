-- A settlement may cost more than its reservation (the estimate is an upper bound, but providers add tokens it
-- cannot see). Once spending has overshot the budget, nothing more is admitted, not even a free call, until the
-- budget is raised: the same rule as BudgetStatus::admits in agentic-core, which the memory store applies.
CREATE OR REPLACE FUNCTION budget_reserve(
    p_tenant uuid, p_id uuid, p_project uuid, p_amount bigint, p_expires_at timestamptz, p_now timestamptz
) RETURNS TABLE (reserved boolean, budget bigint, spent bigint, held bigint)
    LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp
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
    IF v_budget IS NOT NULL AND (v_spent > v_budget OR v_spent::numeric + v_held + p_amount > v_budget) THEN
        RETURN QUERY SELECT false, v_budget, v_spent, v_held;
        RETURN;
    END IF;
    INSERT INTO budget_reservations (tenant_id, id, project_id, amount_nanos, expires_at)
        VALUES (p_tenant, p_id, p_project, p_amount, p_expires_at);
    RETURN QUERY SELECT true, v_budget, v_spent, v_held + p_amount;
END
$$;
