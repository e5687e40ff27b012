"""The writer's deletions: a thread's rows (its file is read again), the rows one of its
files stored (in a thread other files share), or a whole session.

Hooks see the rows before they go: the search index needs their content to drop their
documents.
"""

from __future__ import annotations

from graph.inputs import NewEvent, NewMessage
from graph.store.filters import json_list
from graph.store.rewrites import Rewrites
from graph.store.rows import event_row_key, message_row_key

__all__ = ["Deletes"]


class Deletes(Rewrites):
    """Deleting rows inside the writer's transaction."""

    async def clear_conversation(self, conversation_pk: int) -> None:
        """Delete a thread's messages and events (its file is being read again)."""
        await self._delete("conversation_pk", conversation_pk)

    async def clear_lines(self, conversation_pk: int, lines: range) -> None:
        """Delete what a thread holds at ``lines`` (one of its files is being read again;
        the others' rows stay): the events there, the messages whose records all are,
        and the records there of the other messages (their usage and model stay until
        the file's records come back)."""
        gone: list[tuple[int, NewMessage]] = []
        cut: list[tuple[int, int, NewMessage, NewMessage]] = []  # pk, session, old, new
        for (
            pk,
            session_pk,
            key,
            role,
            timestamp,
            model,
            content,
            source,
        ) in await self._conn.execute_fetchall(
            "SELECT id, session_pk, msg_key, role, timestamp, model, content,"
            " (SELECT source FROM sessions WHERE sessions.id = messages.session_pk)"
            " FROM messages WHERE conversation_pk = ? AND seq < ?",
            (conversation_pk, lines.stop),
        ):
            stored = self._open(
                "messages", "content", message_row_key(conversation_pk, key), content
            )
            records = [(int(line), record) for line, record in stored]
            left = [(line, record) for line, record in records if line not in lines]
            if len(left) == len(records):
                continue
            old = NewMessage(key, role, timestamp, records, model=model, source=source)
            if not left:
                gone.append((int(pk), old))
                continue
            new = NewMessage(key, role, timestamp, left, model=model, source=source)
            cut.append((int(pk), int(session_pk), old, new))
        events = self._stored_events(
            conversation_pk,
            await self._conn.execute_fetchall(
                "SELECT id, seq, type, timestamp, data FROM events"
                " WHERE conversation_pk = ? AND seq >= ? AND seq < ?",
                (conversation_pk, lines.start, lines.stop),
            ),
        )
        for hook in self._hooks:
            await hook.rows_deleting(self._conn, gone, events, [])
        for table, pks in (
            ("messages", [pk for pk, _ in gone]),
            ("events", [pk for pk, _ in events]),
        ):
            rows = await self._conn.execute_fetchall(
                f"DELETE FROM {table} WHERE id IN (SELECT value FROM json_each(?))"
                " RETURNING session_pk",
                (json_list(pks),),
            )
            self._touched.update(int(row[0]) for row in rows)
        for pk, session_pk, old, new in cut:
            await self.rewrite_message(session_pk, conversation_pk, pk, old, new)
            self._touched.add(session_pk)
        # Another session's copy of a message whose records went may now be the one counted.
        self._usage_keys.update(message.msg_key for _, message in gone)
        self._usage_keys.update(old.msg_key for _, _, old, _ in cut)
        self._threads.add(conversation_pk)

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
                "SELECT id, msg_key, role, timestamp, model, content, conversation_pk,"
                " (SELECT source FROM sessions WHERE sessions.id = messages.session_pk)"
                f" FROM messages WHERE {column} = ?",
                (pk,),
            ):
                key = message_row_key(row[6], row[1])
                records = [
                    (line, record)
                    for line, record in self._open("messages", "content", key, row[5])
                ]
                old = NewMessage(row[1], row[2], row[3], records, model=row[4], source=row[7])
                messages.append((row[0], old))
            for row in await self._conn.execute_fetchall(
                f"SELECT id, seq, type, timestamp, data, conversation_pk FROM events "
                f"WHERE {column} = ?",
                (pk,),
            ):
                data = self._open("events", "data", event_row_key(row[5], row[1]), row[4])
                events.append((row[0], NewEvent(row[1], row[2], row[3], data)))
            for hook in self._hooks:
                await hook.rows_deleting(self._conn, messages, events, [])
        for table, key in (("messages", "msg_key"), ("events", "NULL")):
            rows = await self._conn.execute_fetchall(
                f"DELETE FROM {table} WHERE {column} = ? RETURNING session_pk, {key}", (pk,)
            )
            self._touched.update(int(row[0]) for row in rows)
            # Another session's copy of a deleted message may now be the one that counts.
            self._usage_keys.update(row[1] for row in rows if row[1] is not None)
        if column == "conversation_pk":
            self._threads.add(pk)
        else:
            self._all_threads.add(pk)
