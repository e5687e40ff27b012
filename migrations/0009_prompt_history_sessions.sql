-- Sessions known only from Claude Code's prompt history (~/.claude/history.jsonl): their
-- transcripts were deleted (cleanupPeriodDays) before they were imported. Their prompts
-- are stored as user messages of a thread of their own (agent_id 'prompt-history', see
-- graph/importers/history.py); this flag tells a client that the session holds the
-- prompts typed and nothing else (no answers, tools or tokens). It is cleared, and that
-- thread dropped, once a transcript of the session is imported after all.

-- migrate:up
ALTER TABLE sessions ADD COLUMN history_only INTEGER NOT NULL DEFAULT 0;

-- migrate:down
ALTER TABLE sessions DROP COLUMN history_only;
