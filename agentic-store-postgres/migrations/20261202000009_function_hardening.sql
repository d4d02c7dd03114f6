-- The second wall, tightened.
--
-- 1. Every function of ours resolves names in pg_catalog, then public, then pg_temp, last: a caller's temporary
--    objects can never shadow a table or function a SECURITY DEFINER body uses (without pg_temp in the list,
--    PostgreSQL searches it first).
-- 2. A tenant_* function refuses a tenant other than the one its transaction is already bound to: inside an
--    explicit transaction scoped to tenant A (PgTenant::begin), calling it for tenant B would otherwise rebind
--    the rest of A's transaction to B.

CREATE FUNCTION app_bind_tenant(p_tenant uuid) RETURNS void
    LANGUAGE plpgsql SECURITY INVOKER SET search_path = pg_catalog, public, pg_temp
    AS $$
DECLARE
    bound text := NULLIF(current_setting('app.current_tenant', true), '');
BEGIN
    IF bound IS NOT NULL AND bound <> p_tenant::text THEN
        RAISE EXCEPTION 'this transaction is bound to another tenant' USING ERRCODE = 'insufficient_privilege';
    END IF;
    PERFORM set_config('app.current_tenant', p_tenant::text, true);
END
$$;
REVOKE ALL ON FUNCTION app_bind_tenant(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app_bind_tenant(uuid) TO agentic_app;

-- Each tenant_* function (migration single_statement_hot_path) binds through app_bind_tenant instead of calling
-- set_config itself: their definitions are re-created with that one line changed, and the block fails the
-- migration if any function was left unchanged.
DO $$
DECLARE
    f record;
    definition text;
BEGIN
    FOR f IN
        SELECT p.oid FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE n.nspname = 'public' AND p.proname LIKE 'tenant\_%'
    LOOP
        definition := pg_get_functiondef(f.oid);
        IF position('PERFORM set_config(''app.current_tenant'', p_tenant::text, true);' IN definition) = 0 THEN
            RAISE EXCEPTION 'function % does not bind its tenant as expected', f.oid::regprocedure;
        END IF;
        EXECUTE replace(definition, 'PERFORM set_config(''app.current_tenant'', p_tenant::text, true);',
                        'PERFORM app_bind_tenant(p_tenant);');
    END LOOP;
END
$$;

DO $$
DECLARE
    f record;
BEGIN
    FOR f IN
        SELECT p.oid FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
        -- app_current_tenant() is left as it is: RLS policies call it per row, and a SET clause would stop
        -- PostgreSQL from inlining it. It is SECURITY INVOKER and names only pg_catalog's current_setting.
        WHERE n.nspname = 'public' AND p.prokind = 'f' AND p.proname <> 'app_current_tenant'
    LOOP
        EXECUTE format('ALTER FUNCTION %s SET search_path = pg_catalog, public, pg_temp', f.oid::regprocedure);
    END LOOP;
END
$$;
