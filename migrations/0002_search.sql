-- Full-text search: one document per message, event and session, one FTS5 column per
-- field group, so bm25 weighs them and field:term queries pick them.
--
-- search_docs holds each document's tokens as the tokenizer in graph/search/ produced
-- them (or, in an encrypted database, their keyed hashes), never the text itself; the
-- FTS5 index is an external-content table over it, kept in step by the triggers below.
-- Documents go away with their message, event or session through the foreign keys.

-- migrate:up
CREATE TABLE search_docs (
    rowid       INTEGER PRIMARY KEY,
    kind        TEXT    NOT NULL CHECK (kind IN ('message', 'event', 'session')),
    session_pk  INTEGER NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    message_pk  INTEGER UNIQUE REFERENCES messages (id) ON DELETE CASCADE,
    event_pk    INTEGER UNIQUE REFERENCES events (id) ON DELETE CASCADE,
    role        TEXT,
    model       TEXT,
    timestamp   TEXT,
    text        TEXT NOT NULL DEFAULT '',
    thinking    TEXT NOT NULL DEFAULT '',
    tool_input  TEXT NOT NULL DEFAULT '',
    tool_output TEXT NOT NULL DEFAULT '',
    title       TEXT NOT NULL DEFAULT '',
    event       TEXT NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX search_docs_one_per_session ON search_docs (session_pk) WHERE kind = 'session';
CREATE INDEX search_docs_by_session ON search_docs (session_pk, kind);

CREATE VIRTUAL TABLE search_fts USING fts5 (
    text, thinking, tool_input, tool_output, title, event,
    content = 'search_docs',
    content_rowid = 'rowid',
    tokenize = 'ascii',
    prefix = '2 3 4'
);

CREATE TRIGGER search_docs_insert AFTER INSERT ON search_docs BEGIN
    INSERT INTO search_fts (rowid, text, thinking, tool_input, tool_output, title, event)
    VALUES (new.rowid, new.text, new.thinking, new.tool_input, new.tool_output, new.title,
            new.event);
END;

CREATE TRIGGER search_docs_delete AFTER DELETE ON search_docs BEGIN
    INSERT INTO search_fts (search_fts, rowid, text, thinking, tool_input, tool_output, title,
                            event)
    VALUES ('delete', old.rowid, old.text, old.thinking, old.tool_input, old.tool_output,
            old.title, old.event);
END;

CREATE TRIGGER search_docs_update AFTER UPDATE ON search_docs BEGIN
    INSERT INTO search_fts (search_fts, rowid, text, thinking, tool_input, tool_output, title,
                            event)
    VALUES ('delete', old.rowid, old.text, old.thinking, old.tool_input, old.tool_output,
            old.title, old.event);
    INSERT INTO search_fts (rowid, text, thinking, tool_input, tool_output, title, event)
    VALUES (new.rowid, new.text, new.thinking, new.tool_input, new.tool_output, new.title,
            new.event);
END;

-- migrate:down
DROP TRIGGER search_docs_update;
DROP TRIGGER search_docs_delete;
DROP TRIGGER search_docs_insert;
DROP TABLE search_fts;
DROP TABLE search_docs;
