-- Where a transcript file's line numbers start in its thread (see graph/inputs FILE_LINES).
-- A thread is mostly one file, numbered from 1 (0 here: every file stored so far). Gemini
-- CLI moves an old chat document (session-*.json) to a .jsonl beside it and goes on there:
-- both files are the one thread, and with the same line numbers the second file's events
-- were left out where the first file's sat (a thread holds one event a line). A file that
-- joins a thread another file already holds is numbered on from its own multiple of 2^32.
-- The importer asks which files a thread has when a file is first stored: by an index.

-- migrate:up
ALTER TABLE import_files ADD COLUMN line_base INTEGER NOT NULL DEFAULT 0;
CREATE INDEX import_files_by_conversation ON import_files (conversation_pk, line_base);

-- migrate:down
DROP INDEX import_files_by_conversation;
ALTER TABLE import_files DROP COLUMN line_base;
