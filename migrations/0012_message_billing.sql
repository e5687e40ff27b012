-- Which messages are billed, told by the importer instead of the store.
--
-- messages.billed: the message is a model's API response, whose tokens count in totals
-- and costs (once across copies: see graph/store/counting.py). messages.local_key: its
-- msg_key names it within its own file only (a line, say), so no message of another
-- session is a copy of it. Until now the store derived both from Claude Code's rules
-- (an assistant message whose model is not '<synthetic>'; a key of the form 'l:<line>');
-- the importers now mark them when they write, and rows stored so far get them here by
-- those same rules, so what counts does not change.

-- migrate:up
ALTER TABLE messages ADD COLUMN billed INTEGER NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN local_key INTEGER NOT NULL DEFAULT 0;

UPDATE messages SET billed = 1 WHERE role = 'assistant' AND coalesce(model, '') <> '<synthetic>';
UPDATE messages SET local_key = 1 WHERE msg_key LIKE 'l:%';

-- migrate:down
ALTER TABLE messages DROP COLUMN local_key;
ALTER TABLE messages DROP COLUMN billed;
