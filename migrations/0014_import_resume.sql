-- What a transcript format's parser carries over past where reading of a file stopped (a
-- Codex rollout's turn, model and token totals; the order of a Gemini chat's messages, for
-- rewinds), as JSON: a run that reads what was appended starts from it instead of parsing
-- the file again from its start. Ids, line numbers, model names and token counts only, which
-- are plaintext in an encrypted database too. NULL: nothing carries over, or the state was
-- saved before this column (the lines before are then replayed, as before).

-- migrate:up
ALTER TABLE import_files ADD COLUMN resume TEXT;

-- migrate:down
ALTER TABLE import_files DROP COLUMN resume;
