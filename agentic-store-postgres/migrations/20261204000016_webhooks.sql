-- Webhooks: endpoints (a URL subscribed to event types, its secret sealed by the platform), one delivery per
-- (endpoint, event) and the log of each attempt; and the relay that feeds events to the host's sink and makes
-- the deliveries, at least once, from the stored events (the outbox's far side).

INSERT INTO permissions (name) VALUES ('webhooks:manage');
INSERT INTO role_permissions (role, permission) VALUES ('admin', 'webhooks:manage');
ALTER TABLE api_keys DROP CONSTRAINT api_keys_scopes_check;
ALTER TABLE api_keys ADD CONSTRAINT api_keys_scopes_check CHECK (scopes <@ ARRAY['agents:execute',
    'workflows:create', 'approvals:approve', 'departments:manage', 'users:manage', 'webhooks:manage']::text[]);

-- An event is relayed once a relay has fed it to the sink and stored its deliveries. `relay_due` is NULL then;
-- before, it is when a relay may (next) claim it: at once for a new event (events stored before this
-- migration count as relayed), or when the lease of the relay that claimed it lapses.
ALTER TABLE events ADD COLUMN relay_due timestamptz;
ALTER TABLE events ALTER COLUMN relay_due SET DEFAULT '-infinity';
CREATE INDEX events_to_relay ON events (id) WHERE relay_due IS NOT NULL;
GRANT UPDATE (relay_due) ON events TO agentic_system;

CREATE TABLE webhook_endpoints (
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    id uuid NOT NULL,
    url text NOT NULL,
    description text NOT NULL,
    events text[] NOT NULL CHECK (cardinality(events) > 0),
    enabled boolean NOT NULL,
    disabled_reason text,
    failing_since timestamptz,
    secret bytea NOT NULL,
    previous_secret bytea,
    previous_secret_expires_at timestamptz,
    created_by uuid NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id),
    CHECK ((previous_secret IS NULL) = (previous_secret_expires_at IS NULL))
);

CREATE TABLE webhook_deliveries (
    tenant_id uuid NOT NULL,
    id uuid NOT NULL,
    endpoint_id uuid NOT NULL,
    event_id uuid NOT NULL,
    event_type text NOT NULL,
    status text NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
    attempts integer NOT NULL DEFAULT 0,
    round_attempts integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz,
    lease_owner text,
    lease_until timestamptz,
    last_status_code integer,
    last_error text,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, endpoint_id, event_id),
    FOREIGN KEY (tenant_id, endpoint_id) REFERENCES webhook_endpoints (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, event_id) REFERENCES events (tenant_id, id) ON DELETE CASCADE
);
-- What dispatchers claim: pending deliveries by due time.
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_by_endpoint ON webhook_deliveries (tenant_id, endpoint_id, id);
-- Events deleted by retention take their deliveries with them.
CREATE INDEX webhook_deliveries_by_event ON webhook_deliveries (tenant_id, event_id);

CREATE TABLE webhook_attempts (
    tenant_id uuid NOT NULL,
    delivery_id uuid NOT NULL,
    number integer NOT NULL,
    attempted_at timestamptz NOT NULL,
    status_code integer,
    duration_ms integer NOT NULL,
    response_body text,
    error text,
    PRIMARY KEY (tenant_id, delivery_id, number),
    FOREIGN KEY (tenant_id, delivery_id) REFERENCES webhook_deliveries (tenant_id, id) ON DELETE CASCADE
);

ALTER TABLE webhook_endpoints ENABLE ROW LEVEL SECURITY;
ALTER TABLE webhook_endpoints FORCE ROW LEVEL SECURITY;
ALTER TABLE webhook_deliveries ENABLE ROW LEVEL SECURITY;
ALTER TABLE webhook_deliveries FORCE ROW LEVEL SECURITY;
ALTER TABLE webhook_attempts ENABLE ROW LEVEL SECURITY;
ALTER TABLE webhook_attempts FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON webhook_endpoints
    USING (tenant_id = app_current_tenant()) WITH CHECK (tenant_id = app_current_tenant());
CREATE POLICY tenant_isolation ON webhook_deliveries
    USING (tenant_id = app_current_tenant()) WITH CHECK (tenant_id = app_current_tenant());
CREATE POLICY tenant_isolation ON webhook_attempts
    USING (tenant_id = app_current_tenant()) WITH CHECK (tenant_id = app_current_tenant());
GRANT SELECT, INSERT, UPDATE, DELETE ON webhook_endpoints, webhook_deliveries TO agentic_app;
GRANT SELECT, INSERT ON webhook_attempts TO agentic_app;

-- The relay's and the dispatchers' claims cross tenants, through SECURITY DEFINER functions only.
CREATE POLICY system_webhook_endpoints ON webhook_endpoints FOR SELECT TO agentic_system USING (true);
CREATE POLICY system_webhook_deliveries ON webhook_deliveries FOR ALL TO agentic_system
    USING (true) WITH CHECK (true);
GRANT SELECT ON webhook_endpoints TO agentic_system;
GRANT SELECT, INSERT, UPDATE ON webhook_deliveries TO agentic_system;

-- Claims up to p_limit unrelayed events, oldest first, for p_lease (on the database's clock).
CREATE FUNCTION system_claim_relay(p_lease interval, p_limit integer)
    RETURNS TABLE (tenant_id uuid, id uuid, type text, project_id uuid, run_id uuid, data jsonb,
                   occurred_at timestamptz)
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
    AS $$
DECLARE
    v_clock timestamptz := clock_timestamp();
BEGIN
    RETURN QUERY
    UPDATE events e SET relay_due = v_clock + p_lease
    WHERE (e.tenant_id, e.id) IN (
        SELECT c.tenant_id, c.id FROM events c
        WHERE c.relay_due IS NOT NULL AND c.relay_due <= v_clock
        ORDER BY c.id
        LIMIT p_limit
        FOR UPDATE SKIP LOCKED
    )
    RETURNING e.tenant_id, e.id, e.type, e.project_id, e.run_id, e.data, e.occurred_at;
END
$$;
ALTER FUNCTION system_claim_relay(interval, integer) OWNER TO agentic_system;
REVOKE ALL ON FUNCTION system_claim_relay(interval, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION system_claim_relay(interval, integer) TO agentic_app;

-- The enabled endpoints of some tenants (the relay matches its events against them in Rust).
CREATE FUNCTION system_relay_subscriptions(p_tenants uuid[])
    RETURNS TABLE (tenant_id uuid, id uuid, events text[])
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
    AS $$
    SELECT w.tenant_id, w.id, w.events FROM webhook_endpoints w
    WHERE w.tenant_id = ANY (p_tenants) AND w.enabled
$$;
ALTER FUNCTION system_relay_subscriptions(uuid[]) OWNER TO agentic_system;
REVOKE ALL ON FUNCTION system_relay_subscriptions(uuid[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION system_relay_subscriptions(uuid[]) TO agentic_app;

-- Stores the relayed events' deliveries (skipping existing ones and gone endpoints) and marks them relayed.
CREATE FUNCTION system_complete_relay(
    p_tenants uuid[], p_events uuid[], p_ids uuid[], p_delivery_tenants uuid[], p_endpoints uuid[],
    p_delivery_events uuid[], p_types text[], p_due timestamptz[]
) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
    AS $$
BEGIN
    INSERT INTO webhook_deliveries (tenant_id, id, endpoint_id, event_id, event_type, status, next_attempt_at,
                                    created_at, updated_at)
    SELECT d.tenant_id, d.id, d.endpoint_id, d.event_id, d.event_type, 'pending', d.due, d.due, d.due
    FROM unnest(p_delivery_tenants, p_ids, p_endpoints, p_delivery_events, p_types, p_due)
         AS d (tenant_id, id, endpoint_id, event_id, event_type, due)
    JOIN webhook_endpoints w ON w.tenant_id = d.tenant_id AND w.id = d.endpoint_id
    ON CONFLICT (tenant_id, endpoint_id, event_id) DO NOTHING;
    UPDATE events e SET relay_due = NULL
    FROM unnest(p_tenants, p_events) AS r (tenant_id, id)
    WHERE e.tenant_id = r.tenant_id AND e.id = r.id;
END
$$;
ALTER FUNCTION system_complete_relay(uuid[], uuid[], uuid[], uuid[], uuid[], uuid[], text[], timestamptz[])
    OWNER TO agentic_system;
REVOKE ALL ON FUNCTION system_complete_relay(uuid[], uuid[], uuid[], uuid[], uuid[], uuid[], text[], timestamptz[])
    FROM PUBLIC;
GRANT EXECUTE ON FUNCTION system_complete_relay(uuid[], uuid[], uuid[], uuid[], uuid[], uuid[], text[],
    timestamptz[]) TO agentic_app;

-- Claims up to p_limit due pending deliveries of enabled endpoints for p_worker, for p_lease: each attempt's
-- fencing token is the incremented `attempts`. Returns what the attempt needs.
CREATE FUNCTION system_claim_deliveries(p_worker text, p_lease interval, p_limit integer)
    RETURNS TABLE (tenant_id uuid, id uuid, endpoint_id uuid, event_id uuid, event_type text, status text,
                   attempts integer, round_attempts integer, next_attempt_at timestamptz, last_status_code integer,
                   last_error text, created_at timestamptz, updated_at timestamptz, event_project uuid,
                   event_run uuid, event_data jsonb, event_occurred_at timestamptz, url text, secret bytea,
                   previous_secret bytea, failing_since timestamptz)
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
    AS $$
DECLARE
    v_clock timestamptz := clock_timestamp();
BEGIN
    RETURN QUERY
    WITH claimed AS (
        UPDATE webhook_deliveries d SET lease_owner = p_worker, lease_until = v_clock + p_lease,
                                        attempts = d.attempts + 1, round_attempts = d.round_attempts + 1
        WHERE (d.tenant_id, d.id) IN (
            SELECT c.tenant_id, c.id FROM webhook_deliveries c
            JOIN webhook_endpoints w ON w.tenant_id = c.tenant_id AND w.id = c.endpoint_id
            WHERE c.status = 'pending' AND c.next_attempt_at <= v_clock
                  AND (c.lease_until IS NULL OR c.lease_until <= v_clock) AND w.enabled
            ORDER BY c.next_attempt_at
            LIMIT p_limit
            FOR UPDATE OF c SKIP LOCKED
        )
        RETURNING d.*
    )
    SELECT c.tenant_id, c.id, c.endpoint_id, c.event_id, c.event_type, c.status, c.attempts, c.round_attempts,
           c.next_attempt_at, c.last_status_code, c.last_error, c.created_at, c.updated_at, e.project_id, e.run_id,
           e.data, e.occurred_at, w.url, w.secret,
           CASE WHEN w.previous_secret_expires_at > v_clock THEN w.previous_secret END, w.failing_since
    FROM claimed c
    JOIN events e ON e.tenant_id = c.tenant_id AND e.id = c.event_id
    JOIN webhook_endpoints w ON w.tenant_id = c.tenant_id AND w.id = c.endpoint_id;
END
$$;
ALTER FUNCTION system_claim_deliveries(text, interval, integer) OWNER TO agentic_system;
REVOKE ALL ON FUNCTION system_claim_deliveries(text, interval, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION system_claim_deliveries(text, interval, integer) TO agentic_app;

CREATE FUNCTION system_count_pending_deliveries() RETURNS bigint
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
    AS $$ SELECT count(*) FROM webhook_deliveries WHERE status = 'pending' $$;
ALTER FUNCTION system_count_pending_deliveries() OWNER TO agentic_system;
REVOKE ALL ON FUNCTION system_count_pending_deliveries() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION system_count_pending_deliveries() TO agentic_app;

-- Records an attempt if p_worker still holds the delivery at p_attempt (one statement on the hot path): the
-- log, the delivery's next step, the endpoint's failing state and, when asked (p_disable_reason), the endpoint
-- disabled with its webhook.endpoint_disabled event, which is stored only if this call disabled it.
CREATE FUNCTION tenant_record_delivery_attempt(
    p_tenant uuid, p_delivery uuid, p_worker text, p_attempt integer, p_status text, p_next_at timestamptz,
    p_at timestamptz, p_status_code integer, p_duration_ms integer, p_body text, p_error text,
    p_disable_reason text, p_event_id uuid, p_event_data jsonb, p_event_at timestamptz
) RETURNS boolean
    LANGUAGE plpgsql SECURITY INVOKER SET search_path = pg_catalog, public, pg_temp
    AS $$
DECLARE
    v_endpoint uuid;
BEGIN
    PERFORM app_bind_tenant(p_tenant);
    UPDATE webhook_deliveries SET status = p_status, next_attempt_at = p_next_at, lease_owner = NULL,
                                  lease_until = NULL, last_status_code = p_status_code, last_error = p_error,
                                  updated_at = p_at
        WHERE tenant_id = p_tenant AND id = p_delivery AND lease_owner = p_worker AND attempts = p_attempt
        RETURNING endpoint_id INTO v_endpoint;
    IF NOT FOUND THEN
        RETURN false;
    END IF;
    INSERT INTO webhook_attempts (tenant_id, delivery_id, number, attempted_at, status_code, duration_ms,
                                  response_body, error)
        VALUES (p_tenant, p_delivery, p_attempt, p_at, p_status_code, p_duration_ms, p_body, p_error);
    UPDATE webhook_endpoints
        SET failing_since = CASE WHEN p_status = 'succeeded' THEN NULL ELSE coalesce(failing_since, p_at) END
        WHERE tenant_id = p_tenant AND id = v_endpoint
              AND failing_since IS DISTINCT FROM
                  (CASE WHEN p_status = 'succeeded' THEN NULL ELSE coalesce(failing_since, p_at) END);
    IF p_disable_reason IS NOT NULL THEN
        UPDATE webhook_endpoints SET enabled = false, disabled_reason = p_disable_reason, updated_at = p_at
            WHERE tenant_id = p_tenant AND id = v_endpoint AND enabled;
        IF FOUND THEN
            INSERT INTO events (tenant_id, id, type, data, occurred_at)
                VALUES (p_tenant, p_event_id, 'webhook.endpoint_disabled', p_event_data, p_event_at);
        END IF;
    END IF;
    RETURN true;
END
$$;
REVOKE ALL ON FUNCTION tenant_record_delivery_attempt(uuid, uuid, text, integer, text, timestamptz, timestamptz,
    integer, integer, text, text, text, uuid, jsonb, timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tenant_record_delivery_attempt(uuid, uuid, text, integer, text, timestamptz, timestamptz,
    integer, integer, text, text, text, uuid, jsonb, timestamptz) TO agentic_app;
