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
from graph.inputs import FILE_LINES, EventLookup, FileState
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
    "file_heads",
    "file_states",
    "first_event_value",
    "forget_file",
    "free_line_base",
    "link_agent",
    "session_pk_of_message_uuid",
    "session_pk_of_record_uuid",
    "session_pk_of_session_id",
    "thread_contents",
    "thread_line_ranges",
]

_FETCH = 64
_PAST_ANY_LINE = 1 << 62  # a line number past any a thread has (FILE_LINES a file)


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
        "f.line_count, f.resume, f.line_base"
        " FROM json_each(?) AS k JOIN import_files AS f ON f.path = k.value",
        (json_list(list(paths)),),
    )
    return {row[0]: FileState(*row) for row in rows}


async def file_heads(conn: aiosqlite.Connection) -> list[tuple[str, str]]:
    """(path, head fingerprint) of every file read as lines whose rows are stored."""
    rows = await conn.execute_fetchall(
        "SELECT path, head_hash FROM import_files"
        " WHERE conversation_pk IS NOT NULL AND head_hash NOT LIKE 'whole:%' ORDER BY path"
    )
    return [(str(row[0]), str(row[1])) for row in rows]


async def forget_file(conn: aiosqlite.Connection, path: str) -> None:
    """Drop the saved state of ``path`` (the rows read from it stay)."""
    await conn.execute("DELETE FROM import_files WHERE path = ?", (path,))


async def free_line_base(conn: aiosqlite.Connection, conversation_pk: int, path: str) -> int:
    """Where the lines of ``path``, about to be stored in a thread for the first time, start:
    0 in a thread that holds nothing yet, else the next multiple of
    :data:`~graph.inputs.FILE_LINES` past every line (and every other file) it holds."""
    last = await _one(
        conn,
        "SELECT max(m) FROM (SELECT max(seq) AS m FROM events WHERE conversation_pk = ?1"
        " UNION ALL SELECT max(seq) FROM messages WHERE conversation_pk = ?1"
        " UNION ALL SELECT max(line_base) FROM import_files"
        " WHERE conversation_pk = ?1 AND path != ?2)",
        (conversation_pk, path),
    )
    return 0 if last is None else (int(last) // FILE_LINES + 1) * FILE_LINES


async def thread_line_ranges(conn: aiosqlite.Connection, conversation_pk: int) -> list[range]:
    """The line ranges of a thread's files, in order: one unless files joined it (see
    :data:`~graph.inputs.FILE_LINES`)."""
    rows = await conn.execute_fetchall(
        "SELECT seq / ?2 FROM events WHERE conversation_pk = ?1"
        " UNION SELECT seq / ?2 FROM messages WHERE conversation_pk = ?1"
        " UNION SELECT line_base / ?2 FROM import_files WHERE conversation_pk = ?1"
        " ORDER BY 1",
        (conversation_pk, FILE_LINES),
    )
    return [range(int(row[0]) * FILE_LINES, (int(row[0]) + 1) * FILE_LINES) for row in rows]


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
    conn: aiosqlite.Connection, conversation_pk: int, lines: range | None = None
) -> AsyncGenerator[MessageRow, None]:
    """A thread's messages in file order (by their first line), fetched a page at a time.

    With ``lines``, those that may have records in that range: the ones that start
    before its end (a message's records are at or after its first line).
    """
    end = _PAST_ANY_LINE if lines is None else lines.stop
    cursor = await conn.execute(
        f"SELECT {columns(MessageRow)} FROM messages WHERE conversation_pk = ? AND seq < ?"
        " ORDER BY seq, id",
        (conversation_pk, end),
    )
    try:
        while rows := list(await cursor.fetchmany(_FETCH)):
            for row in rows:
                yield MessageRow(*row)
    finally:
        await cursor.close()


async def conversation_events(
    conn: aiosqlite.Connection, conversation_pk: int, lines: range | None = None
) -> AsyncGenerator[EventRow, None]:
    """A thread's events in file order (those in ``lines``, if given), a page at a time."""
    start, end = (0, _PAST_ANY_LINE) if lines is None else (lines.start, lines.stop)
    cursor = await conn.execute(
        f"SELECT {columns(EventRow)} FROM events WHERE conversation_pk = ? AND seq >= ?"
        " AND seq < ? ORDER BY seq",
        (conversation_pk, start, end),
    )
    try:
        while rows := list(await cursor.fetchmany(_FETCH)):
            for row in rows:
                yield EventRow(*row)
    finally:
        await cursor.close()


async def thread_contents(
    conn: aiosqlite.Connection, conversation_pk: int, codec: Codec | None, lines: range
) -> tuple[dict[str, Any], list[tuple[int, str | None, str, Any]]]:
    """What one file's ``lines`` of a thread hold: the newest record in them of each
    message that has one, by its key, and every event as (line, uuid, type, record) in
    line order (for a transcript rewritten whole, to tell what is new in it)."""
    codec = codec or PlainCodec()
    newest: dict[str, Any] = {}
    for key, content in await conn.execute_fetchall(
        "SELECT msg_key, content FROM messages WHERE conversation_pk = ? AND seq < ?",
        (conversation_pk, lines.stop),
    ):
        row_key = message_row_key(conversation_pk, key)
        records = records_of(codec.open("messages", "content", row_key, content))
        mine = [record for line, record in records if line in lines]
        if mine:
            newest[key] = mine[-1]
    events = [
        (
            int(seq),
            uuid,
            kind,
            orjson.loads(codec.open("events", "data", event_row_key(conversation_pk, seq), data)),
        )
        for seq, uuid, kind, data in await conn.execute_fetchall(
            "SELECT seq, uuid, type, data FROM events WHERE conversation_pk = ? AND seq >= ?"
            " AND seq < ? ORDER BY seq",
            (conversation_pk, lines.start, lines.stop),
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

    async def file_heads(self) -> list[tuple[str, str]]:
        return await file_heads(self._conn)

    async def forget_file(self, path: str) -> None:
        await forget_file(self._conn, path)

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
        self, conversation_pk: int, lines: range
    ) -> tuple[dict[str, Any], list[tuple[int, str | None, str, Any]]]:
        return await thread_contents(self._conn, conversation_pk, self._codec, lines)

    async def free_line_base(self, conversation_pk: int, path: str) -> int:
        return await free_line_base(self._conn, conversation_pk, path)

    async def thread_line_ranges(self, conversation_pk: int) -> list[range]:
        return await thread_line_ranges(self._conn, conversation_pk)

    async def sessions_to_title(self, session_pks: Sequence[int]) -> list[UntitledSession]:
        return await sessions_to_title(self._conn, session_pks)

    async def next_untitled_sessions(self, *, batch: int = 200) -> list[int] | None:
        return await next_untitled_sessions(self._conn, batch=batch)

    def main_thread_prompts(
        self, session_pk: int, agent_id: str = ""
    ) -> AsyncGenerator[list[tuple[int, Any]], None]:
        assert self._codec is not None, "prompts are read through a store's codec"
        return main_thread_prompts(self._conn, session_pk, self._codec, agent_id)

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
