-- Codex keys made of a line of their file are local (see 0012): a prompt's 'u:<line>' and
-- a turn without a turn id, keyed by its prompt's line ('a:<line>'). The importer marked
-- only 'l:<line>' so, and two sessions' 'a:2' were taken for copies of one API message:
-- one of them did not count in totals, stats or usage. The importer marks them now; rows
-- stored so far are marked here, each such message counts, and the Codex sessions' token
-- totals are summed again (the same sums as graph/store/aggregates.py).

-- migrate:up
UPDATE messages SET local_key = 1, counted = (role = 'assistant' AND billed = 1)
WHERE local_key = 0 AND (msg_key LIKE 'a:%' OR msg_key LIKE 'u:%')
  AND session_pk IN (SELECT id FROM sessions WHERE source = 'codex');

UPDATE sessions SET (input_tokens, output_tokens, cache_read_tokens, cache_creation_tokens,
                     cache_creation_1h_tokens) = (
    SELECT CAST(total(input_tokens) AS INTEGER), CAST(total(output_tokens) AS INTEGER),
           CAST(total(cache_read_tokens) AS INTEGER), CAST(total(cache_creation_tokens) AS INTEGER),
           CAST(total(cache_creation_1h_tokens) AS INTEGER)
    FROM messages WHERE session_pk = sessions.id AND counted = 1)
WHERE source = 'codex';

-- migrate:down
UPDATE messages SET local_key = 0
WHERE local_key = 1 AND (msg_key LIKE 'a:%' OR msg_key LIKE 'u:%')
  AND session_pk IN (SELECT id FROM sessions WHERE source = 'codex');

UPDATE messages SET counted = (role = 'assistant' AND billed = 1 AND id = (
    SELECT o.id FROM messages AS o
    WHERE o.msg_key = messages.msg_key AND o.role = 'assistant' AND o.billed = 1
    ORDER BY (SELECT min(f.timestamp) FROM messages AS f WHERE f.session_pk = o.session_pk),
             (SELECT max(f.timestamp) FROM messages AS f WHERE f.session_pk = o.session_pk),
             (SELECT s.session_id FROM sessions AS s WHERE s.id = o.session_pk),
             o.id
    LIMIT 1))
WHERE local_key = 0 AND msg_key LIKE 'a:%'
  AND session_pk IN (SELECT id FROM sessions WHERE source = 'codex');

UPDATE sessions SET (input_tokens, output_tokens, cache_read_tokens, cache_creation_tokens,
                     cache_creation_1h_tokens) = (
    SELECT CAST(total(input_tokens) AS INTEGER), CAST(total(output_tokens) AS INTEGER),
           CAST(total(cache_read_tokens) AS INTEGER), CAST(total(cache_creation_tokens) AS INTEGER),
           CAST(total(cache_creation_1h_tokens) AS INTEGER)
    FROM messages WHERE session_pk = sessions.id AND counted = 1)
WHERE source = 'codex';
