-- Which secret rules a message's stored text was masked with: the digest of the rules
-- (graph/secrets, SecretScanner.digest), or NULL for a text stored unmasked (0011).
-- A server whose rules have that digest serves the text as stored; any other reads it
-- through its own rules, from the records. Texts are masked again under new rules when
-- the search index is rebuilt for them (graph/store/upkeep.py).

-- migrate:up
ALTER TABLE messages ADD COLUMN text_masked_by TEXT;

-- Texts stored so far are masked when the store is next opened for writing, in batches
-- resuming from this cursor (graph/store/transcripts.py, fill_message_text).
INSERT OR REPLACE INTO meta (key, value)
SELECT 'message_text.after', '0' WHERE EXISTS (SELECT 1 FROM messages);

-- migrate:down
ALTER TABLE messages DROP COLUMN text_masked_by;
