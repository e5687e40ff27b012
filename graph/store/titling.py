"""What deriving a session's title reads: the sessions still without one, the prompts of
their main thread, and the rank of the title events already stored."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson

from graph.crypto import Codec
from graph.store.filters import json_list
from graph.store.rows import message_row_key

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator, Sequence

    import aiosqlite

__all__ = [
    "UntitledSession",
    "best_title_rank",
    "main_thread_prompts",
    "next_untitled_sessions",
    "sessions_to_title",
]


async def _one(conn: aiosqlite.Connection, sql: str, params: Sequence[Any]) -> Any:
    rows = list(await conn.execute_fetchall(sql, params))
    return rows[0][0] if rows else None


@dataclass(frozen=True, slots=True)
class UntitledSession:
    """A session whose title may be derived: none yet, or only its slug."""

    pk: int
    session_id: str
    title_source: str | None
    metadata: str | bytes | None
    source: str  # the agent that wrote it: whose rules tell a typed prompt


async def sessions_to_title(
    conn: aiosqlite.Connection, session_pks: Sequence[int]
) -> list[UntitledSession]:
    """Those of ``session_pks`` with no title, or a title taken from their slug."""
    rows = await conn.execute_fetchall(
        "SELECT id, session_id, title_source, metadata, source FROM sessions"
        " WHERE id IN (SELECT value FROM json_each(?))"
        " AND (title_source IS NULL OR title_source = 'slug') ORDER BY id",
        (json_list(list(session_pks)),),
    )
    return [UntitledSession(*row) for row in rows]


async def next_untitled_sessions(
    conn: aiosqlite.Connection, *, batch: int = 200
) -> list[int] | None:
    """The next untitled sessions stored before migration 7, moving its cursor past them.

    Returns:
        Their pks, or ``None`` when none is left (the cursor in ``meta`` is then gone).
        Call it in its own transaction until it returns ``None``.
    """
    cursor = await _one(conn, "SELECT value FROM meta WHERE key = 'titles.derive_after'", ())
    if cursor is None:
        return None
    pks = [
        int(row[0])
        for row in await conn.execute_fetchall(
            "SELECT id FROM sessions WHERE id > ? AND title IS NULL ORDER BY id LIMIT ?",
            (int(cursor), batch),
        )
    ]
    if not pks:
        await conn.execute("DELETE FROM meta WHERE key = 'titles.derive_after'")
        return None
    await conn.execute(
        "UPDATE meta SET value = ? WHERE key = 'titles.derive_after'", (str(pks[-1]),)
    )
    return pks


async def main_thread_prompts(
    conn: aiosqlite.Connection, session_pk: int, codec: Codec, agent_id: str = ""
) -> AsyncGenerator[list[tuple[int, Any]], None]:
    """The records of each user message of a session's main thread (or of the thread
    ``agent_id`` names), in file order.

    Fetched a few at a time and opened one by one, so a caller that stops at the first
    message it wants reads no more.
    """
    cursor = await conn.execute(
        "SELECT m.conversation_pk, m.msg_key, m.content FROM conversations AS c"
        " JOIN messages AS m ON m.conversation_pk = c.id"
        " WHERE c.session_pk = ? AND c.agent_id = ? AND m.role = 'user' ORDER BY m.seq, m.id",
        (session_pk, agent_id),
    )
    try:
        while rows := list(await cursor.fetchmany(16)):
            for conversation_pk, msg_key, content in rows:
                key = message_row_key(conversation_pk, msg_key)
                records: list[tuple[int, Any]] = orjson.loads(
                    codec.open("messages", "content", key, content)
                )
                yield records
    finally:
        await cursor.close()


async def best_title_rank(
    conn: aiosqlite.Connection, session_pk: int, ranks: dict[str, int]
) -> int:
    """The highest rank among the session's stored title events (0 when it has none)."""
    cases = " ".join(f"WHEN ? THEN {int(rank)}" for rank in ranks.values())
    value = await _one(
        conn,
        f"SELECT max(CASE type {cases} ELSE 0 END) FROM events "
        "WHERE session_pk = ? AND type IN (SELECT value FROM json_each(?))",
        (*ranks, session_pk, json_list(list(ranks))),
    )
    return int(value or 0)
