-- Events are kept for a retention period (the platform's setting, 30 days by default): the upkeep loop deletes
-- older ones across tenants, in batches, through one SECURITY DEFINER function like the approval sweep. An
-- event's age is its id's (a UUID v7 carries the time it was stored).
CREATE INDEX events_by_age ON events (id);

CREATE POLICY system_events ON events FOR ALL TO agentic_system USING (true) WITH CHECK (true);
GRANT SELECT, DELETE ON events TO agentic_system;

CREATE FUNCTION system_delete_events_before(p_cutoff uuid, p_limit integer)
    RETURNS bigint
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
    AS $$
DECLARE
    deleted bigint;
BEGIN
    DELETE FROM events e
    WHERE (e.tenant_id, e.id) IN (
        SELECT o.tenant_id, o.id FROM events o WHERE o.id < p_cutoff ORDER BY o.id LIMIT p_limit
    );
    GET DIAGNOSTICS deleted = ROW_COUNT;
    RETURN deleted;
END
$$;
ALTER FUNCTION system_delete_events_before(uuid, integer) OWNER TO agentic_system;
REVOKE ALL ON FUNCTION system_delete_events_before(uuid, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION system_delete_events_before(uuid, integer) TO agentic_app;
