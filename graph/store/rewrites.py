"""The writer's rewrites: a stored message's records, an event's record or a session's
metadata replaced as a whole (what a redaction does), the index following."""

from __future__ import annotations

from typing import Any

from graph.inputs import NewEvent, NewMessage
from graph.store.rows import event_row_key, message_row_key
from graph.store.writer_base import WriterBase

__all__ = ["Rewrites"]


class Rewrites(WriterBase):
    """Replacing stored values inside the writer's transaction."""

    async def rewrite_message(
        self, session_pk: int, conversation_pk: int, pk: int, old: NewMessage, new: NewMessage
    ) -> None:
        """Replace a stored message's records (a redaction, or some of its records gone:
        nothing else changes but its first line)."""
        content = new.encoded
        if self._codec.encrypted:
            key = message_row_key(conversation_pk, new.msg_key)
            content = self._codec.seal("messages", "content", key, content)
        text, masked_by = self._text_value(conversation_pk, new)
        await self._conn.execute(
            "UPDATE messages SET seq = ?, content = ?, text = ?, text_masked_by = ? WHERE id = ?",
            (new.seq, content, text, masked_by, pk),
        )
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
