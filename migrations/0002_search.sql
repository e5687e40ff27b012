-- Full-text search: one document per message, event and titled session, one FTS5 column
-- per field group, so bm25 weighs them and field:term queries pick them.
--
-- search_fts is contentless: it keeps the index and nothing else, neither the text nor
-- the token strings (in an encrypted database its tokens are keyed hashes). Documents are
-- added and removed by graph/search/index.py inside the write transaction that changes
-- their rows; removing one re-derives its tokens from the row being replaced or deleted,
-- which is why the tokenizer's version is recorded in meta (a new version reindexes).
--
-- search_docs holds what hits are filtered and joined by. A document's rowid is
-- pk * 4 + kind (0 message, 1 event) or 2^50 + pk for a session, so the writer knows it
-- without a lookup (graph/search/index.py, doc_rowid).

-- migrate:up
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE search_docs (
    rowid       INTEGER PRIMARY KEY,
    kind        TEXT    NOT NULL CHECK (kind IN ('message', 'event', 'session')),
    session_pk  INTEGER NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    role        TEXT,
    model       TEXT,
    timestamp   TEXT
);
CREATE INDEX search_docs_by_session ON search_docs (session_pk, kind);

CREATE VIRTUAL TABLE search_fts USING fts5 (
    text, thinking, tool_input, tool_output, title, event,
    content = '',
    tokenize = 'ascii'
);

-- migrate:down
DROP TABLE search_fts;
DROP TABLE search_docs;
DROP TABLE meta;
