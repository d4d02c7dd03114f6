-- Knowledge bases, their documents, and the documents' chunks with a full-text vector in the base's language
-- (a text search configuration: `english`, `simple`, …). A chunk's title and headings weigh as A, its text as D.
-- A document's content hash is unique in its base: a re-upload of the same text finds the first.
-- `knowledge:manage` (make bases, upload and delete documents) is the admin's, the manager's and the developer's.

INSERT INTO permissions (name) VALUES ('knowledge:manage');
INSERT INTO role_permissions (role, permission) VALUES ('admin', 'knowledge:manage'), ('manager', 'knowledge:manage'),
    ('developer', 'knowledge:manage');
ALTER TABLE api_keys DROP CONSTRAINT api_keys_scopes_check;
ALTER TABLE api_keys ADD CONSTRAINT api_keys_scopes_check CHECK (scopes <@ ARRAY['agents:execute',
    'workflows:create', 'approvals:approve', 'departments:manage', 'users:manage', 'webhooks:manage',
    'knowledge:manage']::text[]);

CREATE TABLE knowledge_bases (
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    id uuid NOT NULL,
    project_id uuid,
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    description text NOT NULL,
    language regconfig NOT NULL,
    created_by uuid NOT NULL,
    created_at timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, name),
    FOREIGN KEY (tenant_id, project_id) REFERENCES projects (tenant_id, id)
);

CREATE TABLE knowledge_documents (
    tenant_id uuid NOT NULL,
    id uuid NOT NULL,
    knowledge_base_id uuid NOT NULL,
    title text NOT NULL,
    media_type text NOT NULL,
    content_hash text NOT NULL,
    size_bytes bigint NOT NULL CHECK (size_bytes >= 0),
    chunk_count integer NOT NULL CHECK (chunk_count >= 0),
    created_by uuid NOT NULL,
    created_at timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, knowledge_base_id, content_hash),
    CONSTRAINT knowledge_documents_knowledge_base_fkey FOREIGN KEY (tenant_id, knowledge_base_id)
        REFERENCES knowledge_bases (tenant_id, id) ON DELETE CASCADE
);

CREATE TABLE knowledge_chunks (
    tenant_id uuid NOT NULL,
    document_id uuid NOT NULL,
    position integer NOT NULL CHECK (position >= 0),
    knowledge_base_id uuid NOT NULL,
    chunk_id text NOT NULL,
    headings jsonb NOT NULL,
    body text NOT NULL,
    language regconfig NOT NULL,
    -- The document's title and the chunk's headings, as searched (not returned).
    context text NOT NULL,
    search tsvector GENERATED ALWAYS AS
        (setweight(to_tsvector(language, context), 'A') || to_tsvector(language, body)) STORED,
    PRIMARY KEY (tenant_id, document_id, position),
    FOREIGN KEY (tenant_id, document_id) REFERENCES knowledge_documents (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX knowledge_chunks_search ON knowledge_chunks USING gin (search);
CREATE INDEX knowledge_chunks_base ON knowledge_chunks (tenant_id, knowledge_base_id);

ALTER TABLE knowledge_bases ENABLE ROW LEVEL SECURITY;
ALTER TABLE knowledge_bases FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON knowledge_bases
    USING (tenant_id = app_current_tenant()) WITH CHECK (tenant_id = app_current_tenant());
ALTER TABLE knowledge_documents ENABLE ROW LEVEL SECURITY;
ALTER TABLE knowledge_documents FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON knowledge_documents
    USING (tenant_id = app_current_tenant()) WITH CHECK (tenant_id = app_current_tenant());
ALTER TABLE knowledge_chunks ENABLE ROW LEVEL SECURITY;
ALTER TABLE knowledge_chunks FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON knowledge_chunks
    USING (tenant_id = app_current_tenant()) WITH CHECK (tenant_id = app_current_tenant());
GRANT SELECT, INSERT, UPDATE, DELETE ON knowledge_bases, knowledge_documents, knowledge_chunks TO agentic_app;
