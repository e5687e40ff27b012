-- The change feed is now written by the store's Writer, once per transaction, in
-- transcript order (graph/store/writes.py, Writer.finish). The per-row triggers of 0003
-- doubled the cost of an import (a trigger program per inserted row, then a second pass
-- to put the transaction's changes in line order) and also fired on re-encryption, which
-- rewrites content without changing it. Every write of messages and events goes through
-- the Writer, which records one change per row it inserts or rewrites.

-- migrate:up
DROP TRIGGER changes_event_insert;
DROP TRIGGER changes_message_update;
DROP TRIGGER changes_message_insert;

-- migrate:down
CREATE TRIGGER changes_message_insert AFTER INSERT ON messages BEGIN
    INSERT INTO changes (session_pk, kind, target_pk) VALUES (new.session_pk, 'message', new.id);
END;

CREATE TRIGGER changes_message_update AFTER UPDATE OF content ON messages BEGIN
    INSERT INTO changes (session_pk, kind, target_pk) VALUES (new.session_pk, 'message', new.id);
END;

CREATE TRIGGER changes_event_insert AFTER INSERT ON events BEGIN
    INSERT INTO changes (session_pk, kind, target_pk) VALUES (new.session_pk, 'event', new.id);
END;
