-- A message's readable text (its text blocks, joined: what Message.text serves), kept
-- beside its records so that serving it does not decode them. Sealed like the content
-- when the database is encrypted (one envelope per value, bound to the same row key);
-- NULL until filled, and read from the records meanwhile.

-- migrate:up
ALTER TABLE messages ADD COLUMN text BLOB;

-- Messages stored so far get their text when the store is next opened (it needs the
-- key to read and seal sealed ones), in batches resuming from this cursor
-- (graph/store/transcripts.py, fill_message_text).
INSERT INTO meta (key, value)
SELECT 'message_text.after', '0' WHERE EXISTS (SELECT 1 FROM messages);

-- migrate:down
DELETE FROM meta WHERE key = 'message_text.after';
ALTER TABLE messages DROP COLUMN text;
