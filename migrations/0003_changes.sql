-- The change feed: every message written or rewritten and every event written gets the
-- next number in one monotonic sequence (AUTOINCREMENT: never reused). Subscribers page
-- through it by that number, so a client that reconnects with its last cursor gets
-- exactly what it missed. Kept by triggers, so no writer can forget it.

-- migrate:up
CREATE TABLE changes (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    session_pk INTEGER NOT NULL,
    kind       TEXT    NOT NULL CHECK (kind IN ('message', 'event')),
    target_pk  INTEGER NOT NULL
);
CREATE INDEX changes_by_session ON changes (session_pk, seq);

CREATE TRIGGER changes_message_insert AFTER INSERT ON messages BEGIN
    INSERT INTO changes (session_pk, kind, target_pk) VALUES (new.session_pk, 'message', new.id);
END;

CREATE TRIGGER changes_message_update AFTER UPDATE OF content ON messages BEGIN
    INSERT INTO changes (session_pk, kind, target_pk) VALUES (new.session_pk, 'message', new.id);
END;

CREATE TRIGGER changes_event_insert AFTER INSERT ON events BEGIN
    INSERT INTO changes (session_pk, kind, target_pk) VALUES (new.session_pk, 'event', new.id);
END;

-- migrate:down
DROP TRIGGER changes_event_insert;
DROP TRIGGER changes_message_update;
DROP TRIGGER changes_message_insert;
DROP TABLE changes;
