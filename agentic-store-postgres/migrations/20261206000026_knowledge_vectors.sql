-- The vectors of knowledge chunks made by an embedding model, at unit length (so cosine similarity is their dot
-- product), searched exhaustively within one knowledge base and model: bases are small enough, and no extension
-- (pgvector) is needed on the server. A chunk's vectors go with it.
CREATE TABLE knowledge_vectors (
    tenant_id uuid NOT NULL,
    document_id uuid NOT NULL,
    position integer NOT NULL,
    knowledge_base_id uuid NOT NULL,
    model text NOT NULL CHECK (length(model) BETWEEN 1 AND 200),
    vector real[] NOT NULL CHECK (cardinality(vector) BETWEEN 1 AND 16384),
    PRIMARY KEY (tenant_id, document_id, position, model),
    FOREIGN KEY (tenant_id, document_id, position) REFERENCES knowledge_chunks (tenant_id, document_id, position)
        ON DELETE CASCADE
);
CREATE INDEX knowledge_vectors_base ON knowledge_vectors (tenant_id, knowledge_base_id, model);

ALTER TABLE knowledge_vectors ENABLE ROW LEVEL SECURITY;
ALTER TABLE knowledge_vectors FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON knowledge_vectors
    USING (tenant_id = app_current_tenant()) WITH CHECK (tenant_id = app_current_tenant());
GRANT SELECT, INSERT, UPDATE, DELETE ON knowledge_vectors TO agentic_app;
