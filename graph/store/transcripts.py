"""SQL the transcript importer and exporter need beyond the general read/write API.

Reached through :class:`Transcripts` (``writer.transcripts`` inside a write transaction,
so it sees the transaction's own rows, or ``reader.transcripts`` outside one): callers
outside the store never hold the connection these functions run on.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson

from graph.content import records_of
from graph.crypto import Codec, PlainCodec
from graph.inputs import EventLookup, FileState
from graph.store import prompt_history
from graph.store.filters import json_list
from graph.store.rows import EventRow, MessageRow, columns, event_row_key, message_row_key
from graph.store.titling import (
    UntitledSession,
    best_title_rank,
    main_thread_prompts,
    next_untitled_sessions,
    sessions_to_title,
)

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator, Sequence

    import aiosqlite


__all__ = [
    "ConversationContext",
    "Transcripts",
    "conversation_contexts",
    "conversation_events",
    "conversation_messages",
    "file_states",
    "first_event_value",
    "link_agent",
    "session_pk_of_message_uuid",
    "session_pk_of_record_uuid",
    "session_pk_of_session_id",
    "thread_contents",
]

_FETCH = 64


@dataclass(frozen=True, slots=True)
class ConversationContext:
    """Where a file's rows go, and the time of the last of them."""

    session_pk: int
    session_id: str
    conversation_pk: int
    agent_id: str
    ended_at: str | None


async def _one(conn: aiosqlite.Connection, sql: str, params: Sequence[Any]) -> Any:
    rows = list(await conn.execute_fetchall(sql, params))
    return rows[0][0] if rows else None


async def file_states(conn: aiosqlite.Connection, paths: Sequence[str]) -> dict[str, FileState]:
    """The saved import state of each of ``paths`` that has one (one statement)."""
    if not paths:
        return {}
    rows = await conn.execute_fetchall(
        "SELECT f.path, f.conversation_pk, f.size, f.mtime_ns, f.head_hash, f.offset, "
        "f.line_count, f.resume FROM json_each(?) AS k JOIN import_files AS f ON f.path = k.value",
        (json_list(list(paths)),),
    )
    return {row[0]: FileState(*row) for row in rows}


async def session_pk_of_session_id(conn: aiosqlite.Connection, session_id: str) -> int | None:
    """The pk of the session with this Claude ``sessionId``."""
    pk = await _one(conn, "SELECT id FROM sessions WHERE session_id = ?", (session_id,))
    return None if pk is None else int(pk)


async def session_pk_of_message_uuid(conn: aiosqlite.Connection, uuid: str) -> int | None:
    """The session of the message whose (first) record has this ``uuid``."""
    pk = await _one(conn, "SELECT session_pk FROM messages WHERE uuid = ? LIMIT 1", (uuid,))
    return None if pk is None else int(pk)


async def session_pk_of_record_uuid(conn: aiosqlite.Connection, uuid: str) -> int | None:
    """The session of the message with a row (after its first) with this ``uuid``."""
    pk = await _one(
        conn,
        "SELECT m.session_pk FROM message_rows AS r JOIN messages AS m ON m.id = r.message_pk"
        " WHERE r.uuid = ?",
        (uuid,),
    )
    return None if pk is None else int(pk)


def _at(value: Any, path: str) -> Any:
    """The part of a JSON value at a simple ``$.a.b`` path (None where it is missing)."""
    for part in path.removeprefix("$.").split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


async def first_event_value(
    conn: aiosqlite.Connection,
    session_pk: int,
    lookup: EventLookup,
    match: str,
    codec: Codec | None = None,
) -> str | None:
    """The string at ``lookup.value_path`` of the first matching event of a session.

    Sealed event data is opened in Python (SQLite's JSON functions cannot see inside it).
    """
    if codec is not None and codec.encrypted:
        rows = await conn.execute_fetchall(
            "SELECT conversation_pk, seq, data FROM events WHERE session_pk = ?"
            " AND type = ? AND subtype IS ? ORDER BY seq",
            (session_pk, lookup.type, lookup.subtype),
        )
        for conversation_pk, seq, data in rows:
            record = orjson.loads(
                codec.open("events", "data", event_row_key(conversation_pk, seq), data)
            )
            found = _at(record, lookup.value_path)
            if _at(record, lookup.match_path) == match and isinstance(found, str):
                return found
        return None
    value = await _one(
        conn,
        "SELECT json_extract(data, ?) FROM events "
        "WHERE session_pk = ? AND type = ? AND subtype IS ? "
        "AND json_extract(data, ?) = ? AND json_type(data, ?) = 'text' ORDER BY seq LIMIT 1",
        (
            lookup.value_path,
            session_pk,
            lookup.type,
            lookup.subtype,
            lookup.match_path,
            match,
            lookup.value_path,
        ),
    )
    return value if isinstance(value, str) else None


async def link_agent(
    conn: aiosqlite.Connection, session_pk: int, agent_id: str, tool_use_id: str
) -> None:
    """Record which tool call started a subagent thread that is already stored."""
    await conn.execute(
        "UPDATE conversations SET parent_tool_use_id = ? WHERE session_pk = ? AND agent_id = ? "
        "AND is_sidechain = 1 AND parent_tool_use_id IS NULL",
        (tool_use_id, session_pk, agent_id),
    )


async def conversation_messages(
    conn: aiosqlite.Connection, conversation_pk: int
) -> AsyncGenerator[MessageRow, None]:
    """A thread's messages in file order (by their first line), fetched a page at a time."""
    cursor = await conn.execute(
        f"SELECT {columns(MessageRow)} FROM messages WHERE conversation_pk = ? ORDER BY seq, id",
        (conversation_pk,),
    )
    try:
        while rows := list(await cursor.fetchmany(_FETCH)):
            for row in rows:
                yield MessageRow(*row)
    finally:
        await cursor.close()


async def conversation_events(
    conn: aiosqlite.Connection, conversation_pk: int
) -> AsyncGenerator[EventRow, None]:
    """A thread's events in file order, fetched a page at a time."""
    cursor = await conn.execute(
        f"SELECT {columns(EventRow)} FROM events WHERE conversation_pk = ? ORDER BY seq",
        (conversation_pk,),
    )
    try:
        while rows := list(await cursor.fetchmany(_FETCH)):
            for row in rows:
                yield EventRow(*row)
    finally:
        await cursor.close()


async def thread_contents(
    conn: aiosqlite.Connection, conversation_pk: int, codec: Codec | None
) -> tuple[dict[str, Any], list[tuple[int, str | None, str, Any]]]:
    """What a thread holds: each message's newest record by its key, and every event as
    (line, uuid, type, record) in line order (for a transcript rewritten whole, to tell
    what is new in it)."""
    codec = codec or PlainCodec()
    newest: dict[str, Any] = {}
    for key, content in await conn.execute_fetchall(
        "SELECT msg_key, content FROM messages WHERE conversation_pk = ?", (conversation_pk,)
    ):
        row_key = message_row_key(conversation_pk, key)
        records = records_of(codec.open("messages", "content", row_key, content))
        newest[key] = records[-1][1] if records else None
    events = [
        (
            int(seq),
            uuid,
            kind,
            orjson.loads(codec.open("events", "data", event_row_key(conversation_pk, seq), data)),
        )
        for seq, uuid, kind, data in await conn.execute_fetchall(
            "SELECT seq, uuid, type, data FROM events WHERE conversation_pk = ? ORDER BY seq",
            (conversation_pk,),
        )
    ]
    return newest, events


async def conversation_contexts(
    conn: aiosqlite.Connection, conversation_pks: Sequence[int]
) -> dict[int, ConversationContext]:
    """The session and thread of each conversation that still exists (one statement)."""
    if not conversation_pks:
        return {}
    rows = await conn.execute_fetchall(
        "SELECT c.session_pk, s.session_id, c.id, c.agent_id, c.ended_at "
        "FROM json_each(?) AS k JOIN conversations AS c ON c.id = k.value "
        "JOIN sessions AS s ON s.id = c.session_pk",
        (json_list(list(conversation_pks)),),
    )
    return {row[2]: ConversationContext(*row) for row in rows}


class Transcripts:
    """The importer's queries, on the connection of a reader or of a write transaction."""

    def __init__(self, conn: aiosqlite.Connection, codec: Codec | None = None) -> None:
        self._conn = conn
        self._codec = codec

    async def file_states(self, paths: Sequence[str]) -> dict[str, FileState]:
        return await file_states(self._conn, paths)

    async def conversation_contexts(
        self, conversation_pks: Sequence[int]
    ) -> dict[int, ConversationContext]:
        return await conversation_contexts(self._conn, conversation_pks)

    async def session_pk_of_session_id(self, session_id: str) -> int | None:
        return await session_pk_of_session_id(self._conn, session_id)

    async def session_pk_of_message_uuid(self, uuid: str) -> int | None:
        return await session_pk_of_message_uuid(self._conn, uuid)

    async def session_pk_of_record_uuid(self, uuid: str) -> int | None:
        return await session_pk_of_record_uuid(self._conn, uuid)

    async def best_title_rank(self, session_pk: int, ranks: dict[str, int]) -> int:
        return await best_title_rank(self._conn, session_pk, ranks)

    async def first_event_value(
        self, session_pk: int, lookup: EventLookup, match: str
    ) -> str | None:
        return await first_event_value(self._conn, session_pk, lookup, match, self._codec)

    async def link_agent(self, session_pk: int, agent_id: str, tool_use_id: str) -> None:
        await link_agent(self._conn, session_pk, agent_id, tool_use_id)

    async def thread_contents(
        self, conversation_pk: int
    ) -> tuple[dict[str, Any], list[tuple[int, str | None, str, Any]]]:
        return await thread_contents(self._conn, conversation_pk, self._codec)

    async def sessions_to_title(self, session_pks: Sequence[int]) -> list[UntitledSession]:
        return await sessions_to_title(self._conn, session_pks)

    async def next_untitled_sessions(self, *, batch: int = 200) -> list[int] | None:
        return await next_untitled_sessions(self._conn, batch=batch)

    def main_thread_prompts(self, session_pk: int) -> AsyncGenerator[list[tuple[int, Any]], None]:
        assert self._codec is not None, "prompts are read through a store's codec"
        return main_thread_prompts(self._conn, session_pk, self._codec)

    # Claude Code's prompt history (graph/store/prompt_history.py) and retention.

    async def history_only_of(self, session_ids: Sequence[str]) -> dict[str, bool]:
        return await prompt_history.history_only_of(self._conn, session_ids)

    async def mark_history_only(self, session_pk: int) -> None:
        await prompt_history.mark_history_only(self._conn, session_pk)

    async def stored_message_keys(self, conversation_pk: int, keys: Sequence[str]) -> set[str]:
        return await prompt_history.stored_message_keys(self._conn, conversation_pk, keys)

    async def session_files(self) -> list[tuple[str, list[str]]]:
        """Each session imported from transcript files, with the paths of those files."""
        rows = await self._conn.execute_fetchall(
            "SELECT s.session_id, json_group_array(f.path) FROM import_files AS f "
            "JOIN conversations AS c ON c.id = f.conversation_pk "
            "JOIN sessions AS s ON s.id = c.session_pk "
            "GROUP BY s.id ORDER BY s.id"
        )
        return [(str(row[0]), [str(p) for p in orjson.loads(row[1])]) for row in rows]
