"""The write API: batched inserts of sessions, conversations, messages and events.

A :class:`Writer` lives for one transaction (see ``Store.write``); its deletions and
rewrites are in ``deletes.py`` and ``rewrites.py``, the state they share in
``writer_base.py``, the aggregates it refreshes in ``aggregates.py``. It remembers which
sessions it touched and refreshes their aggregates (counts, token totals, time span,
models) once, just before the commit, so readers never see a session whose totals
disagree with its rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from graph.crypto import DecryptionFailed
from graph.errors import SessionSourceConflict
from graph.inputs import (
    FileState,
    NewConversation,
    NewEvent,
    NewMessage,
    NewSession,
)
from graph.store.aggregates import refresh
from graph.store.bulk import from_json, insert_json
from graph.store.counting import elect
from graph.store.deletes import Deletes
from graph.store.filters import json_list
from graph.store.hooks import WriteHook
from graph.store.retires import Retires
from graph.store.rows import TokenTotals, event_row_key, message_row_key
from graph.store.writer_base import Added

# Added and WriteHook live in their own modules; they are named here for the store's API.
__all__ = ["Added", "WriteHook", "Writer"]

Record = dict[str, Any]


_CHANGES = f"INSERT INTO changes (session_pk, kind, target_pk) {from_json(3)}"
_MESSAGE_ROWS = f"INSERT OR IGNORE INTO message_rows (uuid, message_pk) {from_json(2)}"


class Writer(Deletes, Retires):
    """Writes inside one transaction on the store's single writer connection."""

    async def upsert_session(self, session: NewSession) -> int:
        """Create the session or update what the new records say about it; its pk."""
        # Insert first, update only if it was there: so the writer knows which it was.
        values = (
            session.session_id,
            session.project,
            session.cwd,
            session.git_branch,
            session.version,
            session.source,
        )
        rows = await self._conn.execute_fetchall(
            "INSERT INTO sessions (session_id, project, cwd, git_branch, version, source) "
            "VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (session_id) DO NOTHING "
            "RETURNING id, metadata",
            values,
        )
        if rows:
            self.added.sessions += 1
        else:
            rows = await self._conn.execute_fetchall(
                "UPDATE sessions SET project = coalesce(project, ?2), cwd = coalesce(cwd, ?3), "
                "git_branch = coalesce(?4, git_branch), version = coalesce(?5, version) "
                "WHERE session_id = ?1 AND source = ?6 RETURNING id, metadata",
                values,
            )
        if not rows:
            # session_id alone is still unique (see migration 0010): another agent has it.
            raise SessionSourceConflict(
                f"session {session.session_id} is already stored from another source"
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
        self,
        session_pk: int,
        *,
        title: str | None = None,
        summary: str | None = None,
        title_source: str | None = None,
    ) -> None:
        """Set the title and/or summary (``None`` leaves a field as it is).

        ``title_source`` says where a new title comes from (see migration 0010).
        """
        if title is not None and title_source is not None:
            await self._conn.execute(
                "UPDATE sessions SET title_source = ? WHERE id = ?", (title_source, session_pk)
            )
        old = list(
            await self._conn.execute_fetchall(
                "SELECT session_id, title, summary FROM sessions WHERE id = ?", (session_pk,)
            )
        )
        if not old:
            return
        session_id, stored = str(old[0][0]), (old[0][1], old[0][2])
        # A stored value that does not authenticate (tampered, or moved) is replaced when
        # a new one is given, else kept as it is: an import goes on either way.
        unreadable = [False, False]
        opened: list[str | None] = [None, None]
        for index, column in enumerate(("title", "summary")):
            try:
                opened[index] = self._open_text("sessions", column, session_id, stored[index])
            except DecryptionFailed:
                unreadable[index] = True
        before = (opened[0], opened[1])
        given = (title, summary)
        after = (
            title if title is not None else before[0],
            summary if summary is not None else before[1],
        )
        if after == before and not any(unreadable):
            return
        # Plain text stays TEXT (readable with sqlite3); sealed text is an envelope.
        sealed: list[str | bytes | None] = [
            stored[index]
            if unreadable[index] and given[index] is None
            else value
            if value is None or not self._codec.encrypted
            else self._codec.seal("sessions", column, session_id, value.encode())
            for index, (column, value) in enumerate((("title", after[0]), ("summary", after[1])))
        ]
        await self._conn.execute(
            "UPDATE sessions SET title = ?, summary = ? WHERE id = ?", (*sealed, session_pk)
        )
        if any(unreadable):
            # Its index document can be neither removed (a contentless index needs the
            # words it was given) nor rebuilt without the text: left to doctor --repair.
            return
        for hook in self._hooks:
            await hook.session_text_written(self._conn, session_pk, before, after)

    async def upsert_conversation(self, session_pk: int, conversation: NewConversation) -> int:
        """Create the thread or update its flags; its pk."""
        values = (
            session_pk,
            conversation.agent_id,
            int(conversation.is_sidechain),
            conversation.parent_tool_use_id,
        )
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
        """Column values from ``seq`` to ``local_key``, as the statements below list them."""
        u = m.usage
        content = m.encoded
        text, masked_by = self._text_value(conversation_pk, m)
        if self._codec.encrypted:
            key = message_row_key(conversation_pk, m.msg_key)
            content = self._codec.seal("messages", "content", key, content)
        return (
            m.seq,
            m.msg_key,
            m.uuid,
            m.role,
            m.model,
            m.timestamp,
            u.input,
            u.output,
            u.cache_read,
            u.cache_creation,
            u.cache_creation_1h,
            content,
            text,
            masked_by,
            int(m.billed),
            int(m.local_key),
        )

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
            " cache_read_tokens, cache_creation_tokens, content, cache_creation_1h_tokens,"
            " billed, local_key FROM messages"
            " WHERE conversation_pk = ? AND msg_key IN (SELECT value FROM json_each(?))",
            (conversation_pk, json_list(list(merged))),
        )
        updates = []
        replaced: dict[int, NewMessage] = {}
        pairs: list[tuple[int, NewMessage]] = []
        for row in stored:
            old = NewMessage(
                msg_key=row[1],
                role=row[4],
                timestamp=row[6],
                uuid=row[3],
                model=row[5],
                usage=TokenTotals(row[7], row[8], row[9], row[10], row[12]),
                billed=bool(row[13]),
                local_key=bool(row[14]),
                source=merged[row[1]].source,  # a thread's messages are of one session
                records=[
                    (line, record)
                    for line, record in self._open(
                        "messages", "content", message_row_key(conversation_pk, row[1]), row[11]
                    )
                ],
            )
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
                " cache_creation_tokens = ?, cache_creation_1h_tokens = ?, content = ?, text = ?,"
                " text_masked_by = ?, billed = ?, local_key = ? WHERE id = ?",
                updates,
            )
        self.added.messages += len(inserts)
        if inserts:
            await self._conn.executemany(
                "INSERT INTO messages (id, session_pk, conversation_pk, seq, msg_key, uuid, role,"
                " model, timestamp, input_tokens, output_tokens, cache_read_tokens,"
                " cache_creation_tokens, cache_creation_1h_tokens, content, text, text_masked_by,"
                " billed, local_key)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                inserts,
            )
        self._touched.add(session_pk)
        self._threads.add(conversation_pk)
        self._usage_keys.update(m.msg_key for _, m in pairs if m.role == "assistant")
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
                    pk,
                    session_pk,
                    conversation_pk,
                    e.seq,
                    e.uuid,
                    e.type,
                    e.subtype,
                    e.timestamp,
                    codec.seal("events", "data", event_row_key(conversation_pk, e.seq), e.encoded)
                    if codec.encrypted
                    else e.encoded,
                )
                for pk, e in enumerate(new, first)
            ],
        )
        self._touched.add(session_pk)
        self._threads.add(conversation_pk)
        pairs = list(enumerate(new, first))
        changes = self._changes
        for pk, event in pairs:
            changes[("event", pk)] = (conversation_pk, event.seq, session_pk)
        for hook in self._hooks:
            await hook.events_written(self._conn, session_pk, pairs)
        return len(new)

    async def save_file_state(self, state: FileState) -> None:
        """Record how far ``state.path`` was read, in the same transaction as its rows."""
        await self._conn.execute(
            "INSERT INTO import_files (path, conversation_pk, size, mtime_ns, head_hash, offset,"
            " line_count, imported_at, resume, line_base) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (path) DO UPDATE SET conversation_pk = excluded.conversation_pk,"
            " size = excluded.size, mtime_ns = excluded.mtime_ns,"
            " head_hash = excluded.head_hash, offset = excluded.offset,"
            " line_count = excluded.line_count, imported_at = excluded.imported_at,"
            " resume = excluded.resume, line_base = excluded.line_base",
            (
                state.path,
                state.conversation_pk,
                state.size,
                state.mtime_ns,
                state.head_hash,
                state.offset,
                state.line_count,
                datetime.now(UTC).isoformat(timespec="seconds"),
                state.resume,
                state.line_base,
            ),
        )

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
        if self._touched or self._usage_keys:
            # Which copy of an API message counts decides whose totals hold it.
            self._touched |= await elect(self._conn, self._usage_keys, self._touched)
            self._usage_keys.clear()
        await refresh(self._conn, self._touched, self._threads, self._all_threads)
        self._touched.clear()
        self._threads.clear()
        self._all_threads.clear()


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
        billed=(last if last.model else old).billed,  # told along with the model
        local_key=old.local_key,
        source=new.source,
    )
