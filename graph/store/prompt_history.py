"""SQL for sessions known only from Claude Code's prompt history (see migration 0009).

Such a session holds the prompts of ``history.jsonl`` as user messages of one thread,
``agent_id = 'prompt-history'``, and has ``history_only = 1``. When a transcript of it is
imported after all, :func:`settle_history_sessions` drops that thread and the flag: the
transcript has the same prompts, and the answers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from graph.store.filters import json_list

if TYPE_CHECKING:
    from collections.abc import Sequence

    import aiosqlite

    from graph.store.writes import Writer

__all__ = [
    "HISTORY_THREAD",
    "history_only_of",
    "mark_history_only",
    "settle_history_sessions",
    "stored_message_keys",
]

HISTORY_THREAD: Final = "prompt-history"


async def history_only_of(
    conn: aiosqlite.Connection, session_ids: Sequence[str]
) -> dict[str, bool]:
    """Whether each stored session of ``session_ids`` is known only from history."""
    rows = await conn.execute_fetchall(
        "SELECT s.session_id, s.history_only FROM json_each(?) AS k "
        "JOIN sessions AS s ON s.session_id = k.value",
        (json_list(list(session_ids)),),
    )
    return {str(row[0]): bool(row[1]) for row in rows}


async def mark_history_only(conn: aiosqlite.Connection, session_pk: int) -> None:
    """Flag a session as known only from the prompt history."""
    await conn.execute("UPDATE sessions SET history_only = 1 WHERE id = ?", (session_pk,))


async def stored_message_keys(
    conn: aiosqlite.Connection, conversation_pk: int, keys: Sequence[str]
) -> set[str]:
    """Those of ``keys`` that a message of the thread already has."""
    rows = await conn.execute_fetchall(
        "SELECT msg_key FROM messages WHERE conversation_pk = ? "
        "AND msg_key IN (SELECT value FROM json_each(?))",
        (conversation_pk, json_list(list(keys))),
    )
    return {str(row[0]) for row in rows}


async def settle_history_sessions(writer: Writer) -> int:
    """Drop the history thread of each history-only session that now has a transcript.

    Returns:
        How many sessions were settled.
    """
    conn = writer.connection
    rows = list(
        await conn.execute_fetchall(
            "SELECT s.id, h.id FROM sessions AS s "
            "JOIN conversations AS h ON h.session_pk = s.id AND h.agent_id = ? "
            "WHERE s.history_only = 1 AND EXISTS (SELECT 1 FROM conversations AS c "
            "WHERE c.session_pk = s.id AND c.agent_id <> ?)",
            (HISTORY_THREAD, HISTORY_THREAD),
        )
    )
    for session_pk, thread_pk in rows:
        await writer.clear_conversation(int(thread_pk))
        await conn.execute("DELETE FROM conversations WHERE id = ?", (thread_pk,))
        await conn.execute("UPDATE sessions SET history_only = 0 WHERE id = ?", (session_pk,))
        writer.touch(int(session_pk))
    return len(rows)
