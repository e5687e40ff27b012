-- Which agent wrote a session: 'claude-code', 'codex' or 'gemini-cli' (a plain column, so
-- it can be filtered and grouped by). Every session stored before this is Claude Code's.
-- (source, session_id) is unique; session_id on its own stays unique too until a table
-- rebuild relaxes it (SQLite cannot drop a column's UNIQUE in place).

-- migrate:up
ALTER TABLE sessions ADD COLUMN source TEXT NOT NULL DEFAULT 'claude-code';
CREATE UNIQUE INDEX sessions_by_source ON sessions (source, session_id);

-- migrate:down
DROP INDEX sessions_by_source;
ALTER TABLE sessions DROP COLUMN source;
