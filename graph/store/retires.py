"""The writer's retirements: stored messages that are no longer current become events.

A transcript can take back what it said (a rewind drops the messages from some point on;
a file rewritten whole can leave some out). Their records are kept, so the export stays
lossless, but they leave the thread's messages, its counts, its usage and the search
index. Each record becomes an event at its own line, as if it had been read as one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from graph.inputs import NewEvent, NewMessage
from graph.store.filters import json_list
from graph.store.rows import message_row_key
from graph.store.writer_base import WriterBase

__all__ = ["Retires"]


class Retires(WriterBase):
    """Retiring messages inside the writer's transaction."""

    async def add_events(
        self, session_pk: int, conversation_pk: int, events: Sequence[NewEvent]
    ) -> int:
        raise NotImplementedError  # the Writer's

    async def retire_messages(
        self,
        session_pk: int,
        conversation_pk: int,
        retired: Mapping[str, str],
        uuids: Mapping[str, str] | None = None,
    ) -> int:
        """Make the stored messages of a thread named in ``retired`` (msg_key -> event
        type) events of that type, one per record at its line. Keys not stored are left
        alone. Returns how many messages were retired.

        Each event's uuid is the one ``uuids`` gives its message's key, where the format
        names all of a message's records by one (a Gemini CLI message id); else the
        message's for its first record, the record's own after.
        """
        if not retired:
            return 0
        rows = list(
            await self._conn.execute_fetchall(
                "SELECT id, msg_key, role, timestamp, model, uuid, content,"
                " (SELECT source FROM sessions WHERE sessions.id = messages.session_pk)"
                " FROM messages"
                " WHERE conversation_pk = ? AND msg_key IN (SELECT value FROM json_each(?))"
                " ORDER BY seq, id",
                (conversation_pk, json_list(list(retired))),
            )
        )
        if not rows:
            return 0
        messages: list[tuple[int, NewMessage]] = []
        events: list[NewEvent] = []
        for pk, key, role, timestamp, model, uuid, content, source in rows:
            stored = self._open(
                "messages", "content", message_row_key(conversation_pk, key), content
            )
            records = [(int(line), record) for line, record in stored]
            named = uuids.get(key) if uuids is not None else None
            messages.append(
                (int(pk), NewMessage(key, role, timestamp, records, model=model, source=source))
            )
            events += [
                NewEvent(
                    line, retired[key], timestamp, record, uuid=named or _uuid(record, uuid, i)
                )
                for i, (line, record) in enumerate(records)
            ]
        for hook in self._hooks:  # the index drops their documents (it needs their content)
            await hook.rows_deleting(self._conn, messages, [], [])
        await self._conn.execute(
            "DELETE FROM messages WHERE id IN (SELECT value FROM json_each(?))",
            (json_list([pk for pk, _ in messages]),),
        )
        self._touched.add(session_pk)
        self._threads.add(conversation_pk)
        # Another session's copy of a retired message may now be the one that counts.
        self._usage_keys.update(retired)
        await self.add_events(session_pk, conversation_pk, events)
        return len(messages)

    async def retire_events(
        self, session_pk: int, conversation_pk: int, seqs: Sequence[int], event_type: str
    ) -> int:
        """Make the thread's events at ``seqs`` events of ``event_type`` (their own type
        becomes their subtype): no longer current, still in the record. Returns how many."""
        if not seqs:
            return 0
        rows = list(
            await self._conn.execute_fetchall(
                "SELECT id, seq, type, timestamp, data FROM events WHERE conversation_pk = ?"
                " AND seq IN (SELECT value FROM json_each(?)) AND type != ?",
                (conversation_pk, json_list(list(seqs)), event_type),
            )
        )
        if not rows:
            return 0
        gone = self._stored_events(conversation_pk, rows)
        for hook in self._hooks:  # their documents go (``event_type`` is not searched)
            await hook.rows_deleting(self._conn, [], gone, [])
        await self._conn.executemany(
            "UPDATE events SET type = ?, subtype = type WHERE id = ?",
            [(event_type, pk) for pk, _ in gone],
        )
        self._touched.add(session_pk)
        self._threads.add(conversation_pk)
        return len(gone)


def _uuid(record: dict[str, Any], first: str | None, index: int) -> str | None:
    """The event's uuid: the message's for its first record, the record's own after."""
    if index == 0:
        return first
    uuid = record.get("uuid")
    return uuid if isinstance(uuid, str) else None
