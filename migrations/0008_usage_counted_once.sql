-- Usage: every API message counted once across the database, and 1-hour cache writes.
--
-- A resumed or forked session replays its parent's records (same uuid, message.id,
-- requestId) under a new session id: both transcripts keep them, but only one copy may
-- count in token totals and costs. messages.counted marks that copy: among the assistant
-- messages sharing a msg_key, the one in the session whose first message is earliest
-- (then whose last message is earliest, then by session id and pk) -- the session that
-- had it first. The Writer keeps it (graph/store/counting.py, same rule); session totals
-- sum counted messages only, so per-session totals add up to the global one.
--
-- cache_creation_1h_tokens is the part of cache_creation_tokens written with a 1-hour
-- TTL (usage.cache_creation.ephemeral_1h_input_tokens), priced higher than 5-minute
-- writes. Filled here from plaintext content; sealed content cannot be read by SQL: the
-- store reads it with the key when it is next opened (graph/store/cache_ttl.py), resuming
-- from the cursor kept in meta.
--
-- messages_usage covers what usage reports read, for counted messages only, so they
-- scan a narrow index instead of the table, whose rows hold the transcript content.

-- migrate:up
ALTER TABLE messages ADD COLUMN cache_creation_1h_tokens INTEGER NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN counted INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN cache_creation_1h_tokens INTEGER NOT NULL DEFAULT 0;

UPDATE messages SET cache_creation_1h_tokens = min(cache_creation_tokens, max(0, json_extract(
    CAST(content AS TEXT), '$[#-1][1].message.usage.cache_creation.ephemeral_1h_input_tokens')))
WHERE role = 'assistant' AND cache_creation_tokens > 0 AND json_valid(CAST(content AS TEXT))
  AND json_type(CAST(content AS TEXT),
      '$[#-1][1].message.usage.cache_creation.ephemeral_1h_input_tokens') = 'integer';

INSERT INTO meta (key, value)
SELECT 'usage_1h.after', '0'
WHERE EXISTS (SELECT 1 FROM messages WHERE role = 'assistant' AND cache_creation_tokens > 0
              AND NOT json_valid(CAST(content AS TEXT)));

CREATE INDEX messages_by_api_key ON messages (msg_key, session_pk) WHERE role = 'assistant';

UPDATE messages SET counted = 1
WHERE role = 'assistant' AND coalesce(model, '') <> '<synthetic>' AND (
    msg_key LIKE 'l:%' OR id = (
        SELECT o.id FROM messages AS o
        WHERE o.msg_key = messages.msg_key AND o.role = 'assistant'
          AND coalesce(o.model, '') <> '<synthetic>'
        ORDER BY (SELECT min(f.timestamp) FROM messages AS f WHERE f.session_pk = o.session_pk),
                 (SELECT max(f.timestamp) FROM messages AS f WHERE f.session_pk = o.session_pk),
                 (SELECT s.session_id FROM sessions AS s WHERE s.id = o.session_pk),
                 o.id
        LIMIT 1));

CREATE INDEX messages_usage ON messages (
    timestamp, session_pk, model, input_tokens, output_tokens, cache_read_tokens,
    cache_creation_tokens, cache_creation_1h_tokens
) WHERE counted = 1;

UPDATE sessions SET (input_tokens, output_tokens, cache_read_tokens, cache_creation_tokens,
                     cache_creation_1h_tokens) = (
    SELECT CAST(total(input_tokens) AS INTEGER), CAST(total(output_tokens) AS INTEGER),
           CAST(total(cache_read_tokens) AS INTEGER), CAST(total(cache_creation_tokens) AS INTEGER),
           CAST(total(cache_creation_1h_tokens) AS INTEGER)
    FROM messages WHERE session_pk = sessions.id AND counted = 1);

-- migrate:down
DELETE FROM meta WHERE key = 'usage_1h.after';
DROP INDEX messages_usage;
DROP INDEX messages_by_api_key;
ALTER TABLE sessions DROP COLUMN cache_creation_1h_tokens;
ALTER TABLE messages DROP COLUMN counted;
ALTER TABLE messages DROP COLUMN cache_creation_1h_tokens;
UPDATE sessions SET (input_tokens, output_tokens, cache_read_tokens, cache_creation_tokens) = (
    SELECT CAST(total(input_tokens) AS INTEGER), CAST(total(output_tokens) AS INTEGER),
           CAST(total(cache_read_tokens) AS INTEGER), CAST(total(cache_creation_tokens) AS INTEGER)
    FROM messages WHERE session_pk = sessions.id);
