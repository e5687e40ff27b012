-- Secrets found in stored text (see graph/secrets): where, of what kind, which value (a
-- fingerprint: 8 hex digits of its SHA-256, never the value). Kept by the search indexer,
-- which finds them while it builds a document (and leaves them out of it), so a document
-- and its findings are added, replaced and removed together. `doc` is the document's
-- rowid (search_docs): the message, event or session the secret is in.

-- migrate:up
CREATE TABLE secret_findings (
    doc         INTEGER NOT NULL,
    session_pk  INTEGER NOT NULL,
    field       TEXT    NOT NULL,
    kind        TEXT    NOT NULL,
    fingerprint TEXT    NOT NULL,
    timestamp   TEXT,
    count       INTEGER NOT NULL,
    PRIMARY KEY (doc, field, kind, fingerprint)
) WITHOUT ROWID;
CREATE INDEX secret_findings_by_session ON secret_findings (session_pk, kind);

-- migrate:down
DROP TABLE secret_findings;
