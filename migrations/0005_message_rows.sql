-- Which message each transcript row belongs to, for rows after a message's first (the
-- first row's uuid is messages.uuid). A summary names its session by the uuid of its
-- leaf row, which is often the last row of a multi-row assistant message: before this
-- table that took a scan of the project's stored content per summary (and could not
-- see into sealed content at all). Kept by the Writer; gone with its message.

-- migrate:up
CREATE TABLE message_rows (
    uuid       TEXT    NOT NULL PRIMARY KEY,
    message_pk INTEGER NOT NULL REFERENCES messages (id) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE INDEX message_rows_by_message ON message_rows (message_pk);

-- Plaintext content is JSON ([[line, record], ...]) and is read here; sealed content is
-- not valid JSON: its messages are left to the store, which opens them with the key and
-- fills the table in batches when it is next opened (graph/store/transcripts.py,
-- fill_message_rows), resuming from the cursor kept in meta.
INSERT OR IGNORE INTO message_rows (uuid, message_pk)
SELECT json_extract(r.value, '$[1].uuid'), m.id
FROM messages AS m, json_each(CAST(m.content AS TEXT)) AS r
WHERE json_valid(CAST(m.content AS TEXT)) AND r.key > 0
  AND json_type(r.value, '$[1].uuid') = 'text';

INSERT INTO meta (key, value)
SELECT 'message_rows.after', '0'
WHERE EXISTS (SELECT 1 FROM messages WHERE NOT json_valid(CAST(content AS TEXT)));

-- migrate:down
DELETE FROM meta WHERE key = 'message_rows.after';
DROP TABLE message_rows;
