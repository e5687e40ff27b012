-- Where a session's title comes from. Claude Code writes titles (custom-title, ai-title)
-- and summaries for only some sessions; the others get one derived by the importer from
-- the first real user prompt, else the session's slug (graph/importers/titles.py). A
-- title record always wins over a derived title, and the source says which one it is:
-- 'custom', 'ai', 'summary' (from records), 'prompt', 'slug' (derived), NULL (no title).

-- migrate:up
ALTER TABLE sessions ADD COLUMN title_source TEXT;

-- Titles stored so far came from records: the best record type stored in the session
-- says which (a summary may title another file's session: 'summary' then too).
UPDATE sessions SET title_source = coalesce((
    SELECT CASE max(CASE type WHEN 'custom-title' THEN 3 WHEN 'ai-title' THEN 2 ELSE 1 END)
        WHEN 3 THEN 'custom' WHEN 2 THEN 'ai' ELSE 'summary' END
    FROM events
    WHERE session_pk = sessions.id AND type IN ('custom-title', 'ai-title', 'summary')
), 'summary')
WHERE title IS NOT NULL;

-- Untitled sessions get a derived title when the store is next opened by an import or a
-- server (it needs the key to read sealed prompts), resuming from this cursor.
INSERT INTO meta (key, value)
SELECT 'titles.derive_after', '0' WHERE EXISTS (SELECT 1 FROM sessions WHERE title IS NULL);

-- migrate:down
DELETE FROM meta WHERE key = 'titles.derive_after';
UPDATE sessions SET title = NULL WHERE title_source IN ('prompt', 'slug');
-- The search index holds documents of the titles just removed: rebuild it on next open.
DELETE FROM meta WHERE key = 'search.version';
ALTER TABLE sessions DROP COLUMN title_source;
