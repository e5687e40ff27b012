"""The write API: batched inserts of sessions, conversations, messages and events.

A :class:`Writer` lives for one transaction (see ``Store.write``). It remembers which
sessions it touched and refreshes their aggregates (counts, token totals, time span,
models) once, just before the commit, so readers never see a session whose totals
disagree with its rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

import orjson

from graph.crypto import Codec, PlainCodec
from graph.store.bulk import from_json, insert_json
from graph.store.filters import json_list
from graph.store.inputs import (
    FileState,
    NewConversation,
    NewEvent,
    NewMessage,
    NewSession,
)
from graph.store.rows import TokenTotals, event_row_key, message_row_key
from graph.store.transcripts import Transcripts

if TYPE_CHECKING:
    import aiosqlite

__all__ = ["Added", "WriteHook", "Writer"]

Record = dict[str, Any]


@dataclass(slots=True)
class Added:
    """Rows a transaction inserted: what it wrote, whatever other writers do meanwhile."""

    sessions: int = 0
    conversations: int = 0
    messages: int = 0
    events: int = 0


class WriteHook(Protocol):
    """Told about every change inside the write transaction: the search index's seam.

    Hooks get the objects being written, and the previous version of whatever is
    replaced or deleted, so they never read back or decode what the writer already has.
    """

    async def messages_written(
        self,
        conn: aiosqlite.Connection,
        session_pk: int,
        written: Sequence[tuple[int, NewMessage]],
        replaced: Mapping[int, NewMessage],
    ) -> None:
        """``written`` are (pk, message) pairs; ``replaced`` their old versions by pk."""

    async def events_written(
        self, conn: aiosqlite.Connection, session_pk: int, written: Sequence[tuple[int, NewEvent]]
    ) -> None:
        """``written`` are (pk, event) pairs of events that were not stored before."""

    async def session_text_written(
        self,
        conn: aiosqlite.Connection,
        session_pk: int,
        before: tuple[str | None, str | None],
        after: tuple[str | None, str | None],
    ) -> None:
        """A session's (title, summary) changed from ``before`` to ``after``."""

    async def rows_deleting(
        self,
        conn: aiosqlite.Connection,
        messages: Sequence[tuple[int, NewMessage]],
        events: Sequence[tuple[int, NewEvent]],
        sessions: Sequence[tuple[int, str | None, str | None]],
    ) -> None:
        """These rows are about to be deleted (sessions as (pk, title, summary))."""

    async def before_commit(self, conn: aiosqlite.Connection) -> None:
        """The transaction is about to commit: write anything held back."""

    def rolled_back(self) -> None:
        """The transaction was rolled back: forget anything held back."""


_REFRESH_CONVERSATIONS = """
UPDATE conversations SET
    message_count = (SELECT count(*) FROM messages WHERE conversation_pk = conversations.id),
    event_count = (SELECT count(*) FROM events WHERE conversation_pk = conversations.id),
    started_at = (SELECT min(t) FROM (
        SELECT min(timestamp) AS t FROM messages WHERE conversation_pk = conversations.id
        UNION ALL SELECT min(timestamp) FROM events WHERE conversation_pk = conversations.id)),
    ended_at = (SELECT max(t) FROM (
        SELECT max(timestamp) AS t FROM messages WHERE conversation_pk = conversations.id
        UNION ALL SELECT max(timestamp) FROM events WHERE conversation_pk = conversations.id))
"""

# Token totals are summed with total() (a float: exact up to 2^53, and it can not
# overflow) and cast back, which saturates at 2^63 - 1 where sum() would raise
# "integer overflow" and fail the whole write.
_REFRESH_SESSION = """
UPDATE sessions SET
    conversation_count = c.conversations,
    sidechain_count = c.sidechains,
    message_count = c.messages,
    event_count = c.events,
    started_at = c.started_at,
    ended_at = c.ended_at,
    input_tokens = m.input_tokens,
    output_tokens = m.output_tokens,
    cache_read_tokens = m.cache_read_tokens,
    cache_creation_tokens = m.cache_creation_tokens,
    models = m.models
FROM (
    SELECT count(*) AS conversations, coalesce(sum(is_sidechain), 0) AS sidechains,
           coalesce(sum(message_count), 0) AS messages, coalesce(sum(event_count), 0) AS events,
           coalesce(min(started_at), '') AS started_at, coalesce(max(ended_at), '') AS ended_at
    FROM conversations WHERE session_pk = ?1
) AS c, (
    SELECT CAST(total(input_tokens) AS INTEGER) AS input_tokens,
           CAST(total(output_tokens) AS INTEGER) AS output_tokens,
           CAST(total(cache_read_tokens) AS INTEGER) AS cache_read_tokens,
           CAST(total(cache_creation_tokens) AS INTEGER) AS cache_creation_tokens,
           (SELECT json_group_array(model) FROM (
               SELECT DISTINCT model FROM messages
               WHERE session_pk = ?1 AND model IS NOT NULL AND model <> '<synthetic>'
               ORDER BY model)) AS models
    FROM messages WHERE session_pk = ?1
) AS m
WHERE sessions.id = ?1
"""


_CHANGES = f"INSERT INTO changes (session_pk, kind, target_pk) {from_json(3)}"
_MESSAGE_ROWS = f"INSERT OR IGNORE INTO message_rows (uuid, message_pk) {from_json(2)}"


def _json(value: Any) -> bytes:
    return orjson.dumps(value)


class Writer:
    """Writes inside one transaction on the store's single writer connection."""

    def __init__(
        self,
        conn: aiosqlite.Connection,
        hooks: Iterable[WriteHook] = (),
        codec: Codec | None = None,
        *,
        feed: bool = True,
    ) -> None:
        self._conn = conn
        self._hooks = tuple(hooks)
        self._codec: Codec = codec or PlainCodec()
        # Sessions whose aggregates are refreshed before the commit; threads likewise
        # (each one written to, and every thread of the sessions in ``_all_threads``).
        self._touched: set[int] = set()
        self._threads: set[int] = set()
        self._all_threads: set[int] = set()
        self._feed = feed
        # (kind, pk) -> (conversation_pk, line, session_pk): what this transaction wrote,
        # for the change feed; a row written twice is one change.
        self._changes: dict[tuple[str, int], tuple[int, int, int]] = {}
        self._next_ids: dict[str, int] = {}  # table -> next pk (see ``_new_ids``)
        self.added = Added()

    @property
    def connection(self) -> aiosqlite.Connection:
        """The writer connection, for writes kept in other store modules."""
        return self._conn

    @property
    def transcripts(self) -> Transcripts:
        """The importer's queries, inside this transaction."""
        return Transcripts(self._conn, self._codec)

    def rolled_back(self) -> None:
        """Tell the hooks that nothing of this transaction was kept."""
        for hook in self._hooks:
            hook.rolled_back()

    def touch(self, session_pk: int) -> None:
        """Have the aggregates of ``session_pk`` (and its threads) refreshed before the commit."""
        self._touched.add(session_pk)
        self._all_threads.add(session_pk)

    async def _new_ids(self, table: str, count: int) -> int:
        """The first of ``count`` pks for new rows of ``table`` (``messages``/``events``).

        Rows go in with these ids, so the writer knows them without reading them back.
        Only this writer inserts into those tables, inside its own write transaction, so
        the largest id read once per transaction stays the largest.
        """
        first = self._next_ids.get(table)
        if first is None and count:
            [(top,)] = await self._conn.execute_fetchall(
                f"SELECT coalesce(max(id), 0) FROM {table}"
            )
            first = int(top) + 1
        if first is None:
            return 0  # nothing to number
        self._next_ids[table] = first + count
        return first

    def _seal(self, table: str, column: str, row: str, value: Any) -> bytes:
        return self._codec.seal(table, column, row, _json(value))

    def _open(self, table: str, column: str, row: str, stored: bytes | str) -> Any:
        return orjson.loads(self._codec.open(table, column, row, stored))

    def _open_text(self, table: str, column: str, row: str, stored: Any) -> str | None:
        if stored is None:
            return None
        if not self._codec.encrypted:
            return _text(stored)
        return self._codec.open(table, column, row, stored).decode()

    async def upsert_session(self, session: NewSession) -> int:
        """Create the session or update what the new records say about it; its pk."""
        # Insert first, update only if it was there: so the writer knows which it was.
        values = (
            session.session_id, session.project, session.cwd, session.git_branch,
            session.version,
        )  # fmt: skip
        rows = await self._conn.execute_fetchall(
            "INSERT INTO sessions (session_id, project, cwd, git_branch, version) "
            "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (session_id) DO NOTHING "
            "RETURNING id, metadata",
            values,
        )
        if rows:
            self.added.sessions += 1
        else:
            rows = await self._conn.execute_fetchall(
                "UPDATE sessions SET project = coalesce(project, ?2), cwd = coalesce(cwd, ?3), "
                "git_branch = coalesce(?4, git_branch), version = coalesce(?5, version) "
                "WHERE session_id = ?1 RETURNING id, metadata",
                values,
            )
        row = next(iter(rows))
        pk = int(row[0])
        if session.metadata:
            # A batch knows only some of the session's facts: merge, don't replace.
            # In Python, since the stored value may be sealed.
            old = self._open("sessions", "metadata", session.session_id, row[1]) if row[1] else {}
            merged = {**(old if isinstance(old, dict) else {}), **session.metadata}
            if merged != old:
                await self._conn.execute(
                    "UPDATE sessions SET metadata = ? WHERE id = ?",
                    (self._seal("sessions", "metadata", session.session_id, merged), pk),
                )
        self._touched.add(pk)
        return pk

    async def set_session_text(
        self, session_pk: int, *, title: str | None = None, summary: str | None = None
    ) -> None:
        """Set the title and/or summary (``None`` leaves a field as it is)."""
        old = list(
            await self._conn.execute_fetchall(
                "SELECT session_id, title, summary FROM sessions WHERE id = ?", (session_pk,)
            )
        )
        if not old:
            return
        session_id = str(old[0][0])
        before = (
            self._open_text("sessions", "title", session_id, old[0][1]),
            self._open_text("sessions", "summary", session_id, old[0][2]),
        )
        after = (title if title is not None else before[0],
                 summary if summary is not None else before[1])  # fmt: skip
        if after == before:
            return
        # Plain text stays TEXT (readable with sqlite3); sealed text is an envelope.
        sealed: list[str | bytes | None] = [
            value
            if value is None or not self._codec.encrypted
            else self._codec.seal("sessions", column, session_id, value.encode())
            for column, value in (("title", after[0]), ("summary", after[1]))
        ]
        await self._conn.execute(
            "UPDATE sessions SET title = ?, summary = ? WHERE id = ?", (*sealed, session_pk)
        )
        for hook in self._hooks:
            await hook.session_text_written(self._conn, session_pk, before, after)

    async def upsert_conversation(self, session_pk: int, conversation: NewConversation) -> int:
        """Create the thread or update its flags; its pk."""
        values = (
            session_pk, conversation.agent_id, int(conversation.is_sidechain),
            conversation.parent_tool_use_id,
        )  # fmt: skip
        rows = await self._conn.execute_fetchall(
            "INSERT INTO conversations (session_pk, agent_id, is_sidechain, parent_tool_use_id) "
            "VALUES (?1, ?2, ?3, ?4) ON CONFLICT (session_pk, agent_id) DO NOTHING RETURNING id",
            values,
        )
        if rows:
            self.added.conversations += 1
        else:
            rows = await self._conn.execute_fetchall(
                "UPDATE conversations SET is_sidechain = ?3, "
                "parent_tool_use_id = coalesce(?4, parent_tool_use_id) "
                "WHERE session_pk = ?1 AND agent_id = ?2 RETURNING id",
                values,
            )
        pk = int(next(iter(rows))[0])
        self._touched.add(session_pk)
        self._threads.add(pk)
        return pk

    def _values(self, conversation_pk: int, m: NewMessage) -> tuple[Any, ...]:
        """Column values from ``seq`` to ``content``, in table order (after the two pks)."""
        u = m.usage
        content = m.encoded
        if self._codec.encrypted:
            key = message_row_key(conversation_pk, m.msg_key)
            content = self._codec.seal("messages", "content", key, content)
        return (
            m.seq, m.msg_key, m.uuid, m.role, m.model, m.timestamp,
            u.input, u.output, u.cache_read, u.cache_creation, content,
        )  # fmt: skip

    async def add_messages(
        self, session_pk: int, conversation_pk: int, messages: Sequence[NewMessage]
    ) -> list[int]:
        """Insert messages, merging records into messages already stored under their key.

        Returns:
            The pks of every message inserted or changed.
        """
        if not messages:
            return []
        merged: dict[str, NewMessage] = {}
        for message in messages:
            merged[message.msg_key] = (
                _merge(merged[message.msg_key], message) if message.msg_key in merged else message
            )
        stored = await self._conn.execute_fetchall(
            "SELECT id, msg_key, seq, uuid, role, model, timestamp, input_tokens, output_tokens,"
            " cache_read_tokens, cache_creation_tokens, content FROM messages "
            "WHERE conversation_pk = ? AND msg_key IN (SELECT value FROM json_each(?))",
            (conversation_pk, json_list(list(merged))),
        )
        updates = []
        replaced: dict[int, NewMessage] = {}
        pairs: list[tuple[int, NewMessage]] = []
        for row in stored:
            old = NewMessage(
                msg_key=row[1], role=row[4], timestamp=row[6], uuid=row[3], model=row[5],
                usage=TokenTotals(row[7], row[8], row[9], row[10]),
                records=[
                    (line, record)
                    for line, record in self._open(
                        "messages", "content", message_row_key(conversation_pk, row[1]), row[11]
                    )
                ],
            )  # fmt: skip
            new = _merge(old, merged.pop(row[1]))
            replaced[row[0]] = old
            pairs.append((int(row[0]), new))
            updates.append((*self._values(conversation_pk, new), row[0]))
        first = await self._new_ids("messages", len(merged))
        inserts = [
            (pk, session_pk, conversation_pk, *self._values(conversation_pk, m))
            for pk, m in enumerate(merged.values(), first)
        ]
        pairs += [(row[0], m) for row, m in zip(inserts, merged.values(), strict=True)]
        if updates:
            await self._conn.executemany(
                "UPDATE messages SET seq = ?, msg_key = ?, uuid = ?, role = ?, model = ?,"
                " timestamp = ?, input_tokens = ?, output_tokens = ?, cache_read_tokens = ?,"
                " cache_creation_tokens = ?, content = ? WHERE id = ?",
                updates,
            )
        self.added.messages += len(inserts)
        if inserts:
            await self._conn.executemany(
                "INSERT INTO messages (id, session_pk, conversation_pk, seq, msg_key, uuid, role,"
                " model, timestamp, input_tokens, output_tokens, cache_read_tokens,"
                " cache_creation_tokens, content)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                inserts,
            )
        self._touched.add(session_pk)
        self._threads.add(conversation_pk)
        later_rows = [(uuid, pk) for pk, message in pairs for uuid in message.later_uuids]
        await insert_json(self._conn, _MESSAGE_ROWS, later_rows)
        changes = self._changes
        for pk, message in pairs:
            changes[("message", pk)] = (conversation_pk, message.seq, session_pk)
        for hook in self._hooks:
            await hook.messages_written(self._conn, session_pk, pairs, replaced)
        return [pk for pk, _ in pairs]

    async def add_events(
        self, session_pk: int, conversation_pk: int, events: Sequence[NewEvent]
    ) -> int:
        """Insert events; one already stored at the same line is left alone. Count added."""
        if not events:
            return 0
        stored = await self._conn.execute_fetchall(
            "SELECT seq FROM events WHERE conversation_pk = ? "
            "AND seq IN (SELECT value FROM json_each(?))",
            (conversation_pk, json_list([e.seq for e in events])),
        )
        seen = {int(row[0]) for row in stored}
        new = []
        for event in events:
            if event.seq not in seen:
                seen.add(event.seq)
                new.append(event)
        if not new:
            return 0
        codec = self._codec
        self.added.events += len(new)
        first = await self._new_ids("events", len(new))
        await self._conn.executemany(
            "INSERT INTO events (id, session_pk, conversation_pk, seq, uuid, type, subtype,"
            " timestamp, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    pk, session_pk, conversation_pk, e.seq, e.uuid, e.type, e.subtype, e.timestamp,
                    codec.seal("events", "data", event_row_key(conversation_pk, e.seq), e.encoded)
                    if codec.encrypted
                    else e.encoded,
                )
                for pk, e in enumerate(new, first)
            ],
        )  # fmt: skip
        self._touched.add(session_pk)
        self._threads.add(conversation_pk)
        pairs = list(enumerate(new, first))
        changes = self._changes
        for pk, event in pairs:
            changes[("event", pk)] = (conversation_pk, event.seq, session_pk)
        for hook in self._hooks:
            await hook.events_written(self._conn, session_pk, pairs)
        return len(new)

    async def rewrite_message(
        self, session_pk: int, conversation_pk: int, pk: int, old: NewMessage, new: NewMessage
    ) -> None:
        """Replace a stored message's records (a redaction: nothing else changes)."""
        content = new.encoded
        if self._codec.encrypted:
            key = message_row_key(conversation_pk, new.msg_key)
            content = self._codec.seal("messages", "content", key, content)
        await self._conn.execute("UPDATE messages SET content = ? WHERE id = ?", (content, pk))
        self._changes[("message", pk)] = (conversation_pk, new.seq, session_pk)
        for hook in self._hooks:
            await hook.messages_written(self._conn, session_pk, [(pk, new)], {pk: old})

    async def rewrite_event(
        self, session_pk: int, conversation_pk: int, pk: int, old: NewEvent, new: NewEvent
    ) -> None:
        """Replace a stored event's record (a redaction: nothing else changes)."""
        data = new.encoded
        if self._codec.encrypted:
            key = event_row_key(conversation_pk, new.seq)
            data = self._codec.seal("events", "data", key, data)
        await self._conn.execute("UPDATE events SET data = ? WHERE id = ?", (data, pk))
        for hook in self._hooks:
            await hook.rows_deleting(self._conn, [], [(pk, old)], [])
            await hook.events_written(self._conn, session_pk, [(pk, new)])

    async def rewrite_session_metadata(self, session_pk: int, session_id: str, value: Any) -> None:
        """Replace a session's metadata as a whole (a redaction)."""
        await self._conn.execute(
            "UPDATE sessions SET metadata = ? WHERE id = ?",
            (self._seal("sessions", "metadata", session_id, value), session_pk),
        )

    async def clear_conversation(self, conversation_pk: int) -> None:
        """Delete a thread's messages and events (its file is being read again)."""
        await self._delete("conversation_pk", conversation_pk)

    async def delete_session(self, session_pk: int) -> None:
        """Delete a session with everything in it."""
        await self._delete("session_pk", session_pk)
        rows = await self._conn.execute_fetchall(
            "DELETE FROM sessions WHERE id = ? RETURNING id, session_id, title, summary",
            (session_pk,),
        )
        gone = [
            (
                int(row[0]),
                self._open_text("sessions", "title", row[1], row[2]),
                self._open_text("sessions", "summary", row[1], row[3]),
            )
            for row in rows
        ]
        for hook in self._hooks:
            await hook.rows_deleting(self._conn, [], [], gone)
        self._touched.discard(session_pk)
        self._all_threads.discard(session_pk)

    async def _delete(self, column: str, pk: int) -> None:
        # Hooks see the rows before they go (the index needs their content to drop them).
        messages: list[tuple[int, NewMessage]] = []
        events: list[tuple[int, NewEvent]] = []
        if self._hooks:
            for row in await self._conn.execute_fetchall(
                f"SELECT id, msg_key, role, timestamp, model, content, conversation_pk "
                f"FROM messages WHERE {column} = ?",
                (pk,),
            ):
                key = message_row_key(row[6], row[1])
                records = [
                    (line, record)
                    for line, record in self._open("messages", "content", key, row[5])
                ]
                messages.append((row[0], NewMessage(row[1], row[2], row[3], records,
                                                    model=row[4])))  # fmt: skip
            for row in await self._conn.execute_fetchall(
                f"SELECT id, seq, type, timestamp, data, conversation_pk FROM events "
                f"WHERE {column} = ?",
                (pk,),
            ):
                data = self._open("events", "data", event_row_key(row[5], row[1]), row[4])
                events.append((row[0], NewEvent(row[1], row[2], row[3], data)))
            for hook in self._hooks:
                await hook.rows_deleting(self._conn, messages, events, [])
        for table in ("messages", "events"):
            rows = await self._conn.execute_fetchall(
                f"DELETE FROM {table} WHERE {column} = ? RETURNING session_pk", (pk,)
            )
            self._touched.update(int(row[0]) for row in rows)
        if column == "conversation_pk":
            self._threads.add(pk)
        else:
            self._all_threads.add(pk)

    async def save_file_state(self, state: FileState) -> None:
        """Record how far ``state.path`` was read, in the same transaction as its rows."""
        await self._conn.execute(
            "INSERT INTO import_files (path, conversation_pk, size, mtime_ns, head_hash, offset,"
            " line_count, imported_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (path) DO UPDATE SET conversation_pk = excluded.conversation_pk,"
            " size = excluded.size, mtime_ns = excluded.mtime_ns,"
            " head_hash = excluded.head_hash, offset = excluded.offset,"
            " line_count = excluded.line_count, imported_at = excluded.imported_at",
            (
                state.path, state.conversation_pk, state.size, state.mtime_ns, state.head_hash,
                state.offset, state.line_count, datetime.now(UTC).isoformat(timespec="seconds"),
            ),
        )  # fmt: skip

    async def finish(self) -> None:
        """Bring what the rows imply up to date; the store calls it just before COMMIT.

        Refreshes the aggregates of every session touched and appends this
        transaction's changes to the feed, in transcript order (thread, then line), so
        a subscriber sees records in the order they were written whatever order the
        writer stored them in (a batch's messages go in before its events).
        """
        for hook in self._hooks:
            await hook.before_commit(self._conn)
        await self._refresh_aggregates()
        changes, self._changes = self._changes, {}
        if changes and self._feed:
            # Plain tuples sort in C: (thread, line) first, and no two rows share both.
            order = sorted(
                (conversation_pk, line, session_pk, kind, pk)
                for (kind, pk), (conversation_pk, line, session_pk) in changes.items()
            )
            await insert_json(self._conn, _CHANGES, [row[2:] for row in order])

    async def _refresh_aggregates(self) -> None:
        """Recompute counts, totals and time spans of every thread and session touched.

        Threads first (a session's counts are sums over its threads), and only the
        threads written to: recounting every thread of a long session on every batch
        made a large import's refreshes grow with the square of its length.
        """
        conn = self._conn
        if self._all_threads:
            await conn.executemany(
                f"{_REFRESH_CONVERSATIONS} WHERE session_pk = ?",
                [(pk,) for pk in sorted(self._all_threads)],
            )
        if self._threads:
            await conn.executemany(
                f"{_REFRESH_CONVERSATIONS} WHERE id = ?", [(pk,) for pk in sorted(self._threads)]
            )
        if self._touched:
            await conn.executemany(_REFRESH_SESSION, [(pk,) for pk in sorted(self._touched)])
        self._touched.clear()
        self._threads.clear()
        self._all_threads.clear()


def _text(value: str | bytes | None) -> str | None:
    return value.decode() if isinstance(value, bytes) else value


def _merge(old: NewMessage, new: NewMessage) -> NewMessage:
    by_line = dict(old.records)
    by_line.update(new.records)
    records = sorted(by_line.items())
    last = new if new.records[-1][0] >= old.records[-1][0] else old
    return NewMessage(
        msg_key=old.msg_key,
        role=old.role,
        timestamp=min(old.timestamp, new.timestamp),
        records=records,
        uuid=records[0][1].get("uuid") if isinstance(records[0][1].get("uuid"), str) else old.uuid,
        model=last.model or old.model,
        usage=last.usage,
    )
