-- Foundation: tenants, identity, RBAC reference data, API keys, departments, projects.
--
-- Two roles besides the one running migrations (which owns every table):
--   agentic_app     the runtime role the server SET ROLEs to on every connection. No BYPASSRLS, owns nothing;
--                   it sees exactly the rows of the tenant named by app.current_tenant in its transaction.
--   agentic_system  NOLOGIN owner of the few SECURITY DEFINER functions that must cross tenants (create a
--                   tenant, find a tenant by slug, find an API key by lookup id). Policies grant it exactly the
--                   rows those functions touch; it cannot be logged into, and agentic_app can only EXECUTE them.
-- Roles are cluster-wide, so they are created only if missing (tolerating a concurrent creator).

DO $$
BEGIN
    BEGIN
        CREATE ROLE agentic_app NOLOGIN NOBYPASSRLS;
    EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
    END;
    BEGIN
        CREATE ROLE agentic_system NOLOGIN NOBYPASSRLS;
    EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
    END;
END
$$;

-- The tenant of the current transaction, or NULL (which matches no row) when unset or empty.
CREATE FUNCTION app_current_tenant() RETURNS uuid
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT NULLIF(current_setting('app.current_tenant', true), '')::uuid $$;

-- Reference data: roles and permissions are defined by the product, not by tenants. Natural keys, seeded here;
-- a test checks they match the code's table.
CREATE TABLE roles (
    name text PRIMARY KEY
);
CREATE TABLE permissions (
    name text PRIMARY KEY
);
CREATE TABLE role_permissions (
    role text NOT NULL REFERENCES roles (name),
    permission text NOT NULL REFERENCES permissions (name),
    PRIMARY KEY (role, permission)
);
INSERT INTO roles (name) VALUES ('admin'), ('manager'), ('developer'), ('viewer');
INSERT INTO permissions (name) VALUES
    ('agents:execute'), ('workflows:create'), ('approvals:approve'), ('departments:manage'), ('users:manage');
INSERT INTO role_permissions (role, permission) VALUES
    ('admin', 'agents:execute'), ('admin', 'workflows:create'), ('admin', 'approvals:approve'),
    ('admin', 'departments:manage'), ('admin', 'users:manage'),
    ('manager', 'agents:execute'), ('manager', 'workflows:create'), ('manager', 'approvals:approve'),
    ('manager', 'departments:manage'),
    ('developer', 'agents:execute'), ('developer', 'workflows:create');

CREATE TABLE tenants (
    id uuid PRIMARY KEY,
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    slug text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9][a-z0-9-]{0,61}[a-z0-9]$'),
    plan text NOT NULL CHECK (plan IN ('free', 'developer', 'enterprise')),
    settings jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(settings) = 'object'),
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);

-- Users: e-mail is unique per tenant (the plan made it global), stored normalised (lower case).
CREATE TABLE users (
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    id uuid NOT NULL,
    email text NOT NULL CHECK (email = lower(email) AND position('@' IN email) > 1),
    password_hash text NOT NULL,
    active boolean NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, email)
);

CREATE TABLE user_roles (
    tenant_id uuid NOT NULL,
    user_id uuid NOT NULL,
    role text NOT NULL REFERENCES roles (name),
    PRIMARY KEY (tenant_id, user_id, role),
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
);

-- API keys: only the SHA-256 of the key text is kept; `lookup` indexes a presented key without a scan.
CREATE TABLE api_keys (
    tenant_id uuid NOT NULL,
    id uuid NOT NULL,
    owner_id uuid NOT NULL,
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    lookup text NOT NULL UNIQUE,
    key_hash bytea NOT NULL CHECK (length(key_hash) = 32),
    scopes text[] NOT NULL CHECK (scopes <@ ARRAY['agents:execute', 'workflows:create', 'approvals:approve',
                                                   'departments:manage', 'users:manage']::text[]),
    expires_at timestamptz,
    last_used_at timestamptz,
    revoked_at timestamptz,
    created_at timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, owner_id) REFERENCES users (tenant_id, id)
);
CREATE INDEX api_keys_owner ON api_keys (tenant_id, owner_id, id);

CREATE TABLE departments (
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    id uuid NOT NULL,
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    description text,
    created_at timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX departments_name ON departments (tenant_id, lower(name));

-- Budgets are integer nano-USD (the plan's DECIMAL(10,2) capped budgets at 99,999,999.99 and invited floats).
CREATE TABLE projects (
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    id uuid NOT NULL,
    department_id uuid,
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    description text,
    budget_nanos bigint CHECK (budget_nanos >= 0),
    created_by uuid NOT NULL,
    created_at timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, department_id) REFERENCES departments (tenant_id, id),
    FOREIGN KEY (tenant_id, created_by) REFERENCES users (tenant_id, id)
);

-- Row-level security: every tenant-owned table, enabled and forced (so even the owner is filtered).
ALTER TABLE tenants ENABLE ROW LEVEL SECURITY;
ALTER TABLE tenants FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON tenants
    USING (id = app_current_tenant()) WITH CHECK (id = app_current_tenant());

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['users', 'user_roles', 'api_keys', 'departments', 'projects'] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY tenant_isolation ON %I USING (tenant_id = app_current_tenant()) '
                       'WITH CHECK (tenant_id = app_current_tenant())', t);
    END LOOP;
END
$$;

-- What agentic_system may see and do, for its functions only.
CREATE POLICY system_tenants ON tenants FOR ALL TO agentic_system USING (true) WITH CHECK (true);
CREATE POLICY system_users ON users FOR ALL TO agentic_system USING (true) WITH CHECK (true);
CREATE POLICY system_user_roles ON user_roles FOR ALL TO agentic_system USING (true) WITH CHECK (true);
CREATE POLICY system_api_keys ON api_keys FOR SELECT TO agentic_system USING (true);

-- The runtime role checks at start-up that the schema is the one it knows.
GRANT SELECT ON _sqlx_migrations TO agentic_app;
GRANT SELECT ON roles, permissions, role_permissions TO agentic_app, agentic_system;
GRANT SELECT, UPDATE ON tenants TO agentic_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON users, user_roles, api_keys, departments, projects TO agentic_app;
GRANT SELECT, INSERT ON tenants, users, user_roles TO agentic_system;
GRANT SELECT ON api_keys TO agentic_system;
GRANT EXECUTE ON FUNCTION app_current_tenant() TO agentic_app, agentic_system;

-- The system interface. Each function answers one question and returns nothing else. They are PL/pgSQL, not
-- SQL: a SECURITY DEFINER SQL function is never inlined and is re-planned on every call, while PL/pgSQL caches
-- its plans per connection (this is the hot path of every API-key request).

CREATE FUNCTION system_create_tenant(
    p_id uuid, p_name text, p_slug text, p_plan text, p_settings jsonb, p_created_at timestamptz,
    p_updated_at timestamptz, p_admin_id uuid, p_admin_email text, p_admin_password_hash text, p_admin_roles text[],
    p_admin_created_at timestamptz, p_admin_updated_at timestamptz
) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public
    AS $$
BEGIN
    INSERT INTO tenants (id, name, slug, plan, settings, created_at, updated_at)
        VALUES (p_id, p_name, p_slug, p_plan, p_settings, p_created_at, p_updated_at);
    INSERT INTO users (tenant_id, id, email, password_hash, active, created_at, updated_at)
        VALUES (p_id, p_admin_id, p_admin_email, p_admin_password_hash, true, p_admin_created_at, p_admin_updated_at);
    INSERT INTO user_roles (tenant_id, user_id, role) SELECT p_id, p_admin_id, unnest(p_admin_roles);
END
$$;

CREATE FUNCTION system_tenant_by_slug(p_slug text)
    RETURNS TABLE (id uuid, name text, slug text, plan text, settings jsonb, created_at timestamptz,
                   updated_at timestamptz)
    LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, public
    AS $$
BEGIN
    RETURN QUERY SELECT t.id, t.name, t.slug, t.plan, t.settings, t.created_at, t.updated_at
        FROM tenants t WHERE t.slug = p_slug;
END
$$;

CREATE FUNCTION system_has_tenants() RETURNS boolean
    LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, public
    AS $$
BEGIN
    RETURN EXISTS (SELECT 1 FROM tenants);
END
$$;

-- An API key by lookup id, with the owner it acts as (one row or none).
CREATE FUNCTION system_api_key_by_lookup(p_lookup text)
    RETURNS TABLE (tenant_id uuid, id uuid, owner_id uuid, name text, lookup text, key_hash bytea, scopes text[],
                   expires_at timestamptz, last_used_at timestamptz, revoked_at timestamptz,
                   created_at timestamptz, owner_email text, owner_active boolean, owner_roles text[],
                   owner_created_at timestamptz, owner_updated_at timestamptz)
    LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, public
    AS $$
BEGIN
    RETURN QUERY
    SELECT k.tenant_id, k.id, k.owner_id, k.name, k.lookup, k.key_hash, k.scopes, k.expires_at, k.last_used_at,
           k.revoked_at, k.created_at, u.email, u.active,
           COALESCE((SELECT array_agg(r.role ORDER BY r.role) FROM user_roles r
                     WHERE r.tenant_id = u.tenant_id AND r.user_id = u.id), '{}'::text[]),
           u.created_at, u.updated_at
    FROM api_keys k JOIN users u ON u.tenant_id = k.tenant_id AND u.id = k.owner_id
    WHERE k.lookup = p_lookup;
END
$$;

ALTER FUNCTION system_create_tenant(uuid, text, text, text, jsonb, timestamptz, timestamptz, uuid, text, text, text[],
    timestamptz, timestamptz)
    OWNER TO agentic_system;
ALTER FUNCTION system_tenant_by_slug(text) OWNER TO agentic_system;
ALTER FUNCTION system_has_tenants() OWNER TO agentic_system;
ALTER FUNCTION system_api_key_by_lookup(text) OWNER TO agentic_system;
REVOKE ALL ON FUNCTION system_create_tenant(uuid, text, text, text, jsonb, timestamptz, timestamptz, uuid, text, text, text[],
    timestamptz, timestamptz),
    system_tenant_by_slug(text), system_has_tenants(), system_api_key_by_lookup(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION
    system_create_tenant(uuid, text, text, text, jsonb, timestamptz, timestamptz, uuid, text, text, text[],
    timestamptz, timestamptz),
    system_tenant_by_slug(text), system_has_tenants(), system_api_key_by_lookup(text) TO agentic_app;
