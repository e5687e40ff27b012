-- The core tables: sessions, their conversations (threads), messages and timeline events.
--
-- Ids, timestamps, roles, types, paths and token counts are plain columns so they can be
-- filtered, sorted and summed. Content (messages.content, events.data, sessions.title/summary/
-- metadata) is kept as written by the importer and read only through the codec, so the
-- encryption migration can turn those columns into ciphertext without touching the rest.
-- Timestamps are UTC ISO-8601 strings ('2026-02-10T21:11:56.846Z'): they sort as text.

-- migrate:up
CREATE TABLE sessions (
    id                    INTEGER PRIMARY KEY,
    session_id            TEXT    NOT NULL UNIQUE,
    project               TEXT,
    cwd                   TEXT,
    git_branch            TEXT,
    version               TEXT,
    title,
    summary,
    metadata,
    started_at            TEXT    NOT NULL DEFAULT '',
    ended_at              TEXT    NOT NULL DEFAULT '',
    models                TEXT    NOT NULL DEFAULT '[]',
    conversation_count    INTEGER NOT NULL DEFAULT 0,
    sidechain_count       INTEGER NOT NULL DEFAULT 0,
    message_count         INTEGER NOT NULL DEFAULT 0,
    event_count           INTEGER NOT NULL DEFAULT 0,
    input_tokens          INTEGER NOT NULL DEFAULT 0,
    output_tokens         INTEGER NOT NULL DEFAULT 0,
    cache_read_tokens     INTEGER NOT NULL DEFAULT 0,
    cache_creation_tokens INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX sessions_by_started_at    ON sessions (started_at, id);
CREATE INDEX sessions_by_ended_at      ON sessions (ended_at, id);
CREATE INDEX sessions_by_message_count ON sessions (message_count, id);
CREATE INDEX sessions_by_project       ON sessions (project, started_at);

CREATE TABLE conversations (
    id                 INTEGER PRIMARY KEY,
    session_pk         INTEGER NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    agent_id           TEXT    NOT NULL DEFAULT '',
    is_sidechain       INTEGER NOT NULL DEFAULT 0,
    parent_tool_use_id TEXT,
    started_at         TEXT,
    ended_at           TEXT,
    message_count      INTEGER NOT NULL DEFAULT 0,
    event_count        INTEGER NOT NULL DEFAULT 0,
    UNIQUE (session_pk, agent_id)
);

CREATE TABLE messages (
    id                    INTEGER PRIMARY KEY,
    session_pk            INTEGER NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    conversation_pk       INTEGER NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    seq                   INTEGER NOT NULL,
    msg_key               TEXT    NOT NULL,
    uuid                  TEXT,
    role                  TEXT    NOT NULL,
    model                 TEXT,
    timestamp             TEXT    NOT NULL,
    input_tokens          INTEGER NOT NULL DEFAULT 0,
    output_tokens         INTEGER NOT NULL DEFAULT 0,
    cache_read_tokens     INTEGER NOT NULL DEFAULT 0,
    cache_creation_tokens INTEGER NOT NULL DEFAULT 0,
    content               NOT NULL,
    UNIQUE (conversation_pk, msg_key)
);
CREATE INDEX messages_by_conversation ON messages (conversation_pk, seq);
CREATE INDEX messages_by_session      ON messages (session_pk, timestamp, id);
CREATE INDEX messages_by_uuid         ON messages (uuid);
CREATE INDEX messages_by_model        ON messages (model, session_pk);

CREATE TABLE events (
    id              INTEGER PRIMARY KEY,
    session_pk      INTEGER NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    conversation_pk INTEGER NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    seq             INTEGER NOT NULL,
    uuid            TEXT,
    type            TEXT    NOT NULL,
    subtype         TEXT,
    timestamp       TEXT    NOT NULL,
    data            NOT NULL,
    UNIQUE (conversation_pk, seq)
);
CREATE INDEX events_by_session   ON events (session_pk, timestamp, id);
CREATE INDEX events_by_timestamp ON events (timestamp, id);
CREATE INDEX events_by_type      ON events (type, subtype, timestamp);

-- Where the importer got to in each transcript file, so re-runs read only appended bytes.
CREATE TABLE import_files (
    path            TEXT    PRIMARY KEY,
    conversation_pk INTEGER REFERENCES conversations (id) ON DELETE SET NULL,
    size            INTEGER NOT NULL,
    mtime_ns        INTEGER NOT NULL,
    head_hash       TEXT    NOT NULL,
    offset          INTEGER NOT NULL,
    line_count      INTEGER NOT NULL,
    imported_at     TEXT    NOT NULL
);

-- migrate:down
DROP TABLE import_files;
DROP TABLE events;
DROP TABLE messages;
DROP TABLE conversations;
DROP TABLE sessions;
