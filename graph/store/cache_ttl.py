"""1-hour cache writes of sealed messages stored before migration 0008.

The migration reads ``usage.cache_creation.ephemeral_1h_input_tokens`` out of plaintext
content with SQL; sealed content needs the key, so the store reads it here, in batches,
when it is next opened (the cursor is kept in ``meta``, like ``message_rows``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson

from graph.crypto import Codec
from graph.store.rows import message_row_key

if TYPE_CHECKING:
    import aiosqlite

__all__ = ["fill_cache_ttl"]

_CURSOR = "usage_1h.after"


def _one_hour(records: list[Any]) -> int:
    """The 1-hour part of the last record's cache writes (the message's usage)."""
    for _, record in reversed(records):
        message = record.get("message") if isinstance(record, dict) else None
        usage = message.get("usage") if isinstance(message, dict) else None
        if isinstance(usage, dict):
            ttl = usage.get("cache_creation")
            value = ttl.get("ephemeral_1h_input_tokens") if isinstance(ttl, dict) else None
            return value if isinstance(value, int) and not isinstance(value, bool) else 0
    return 0


async def fill_cache_ttl(
    conn: aiosqlite.Connection, codec: Codec, *, batch: int = 500
) -> set[int] | None:
    """Read one batch; the sessions whose totals changed, or ``None`` when done.

    Call it in its own transaction (refreshing those sessions) until it returns ``None``.
    """
    rows = list(await conn.execute_fetchall("SELECT value FROM meta WHERE key = ?", (_CURSOR,)))
    if not rows:
        return None
    found = list(
        await conn.execute_fetchall(
            "SELECT id, session_pk, conversation_pk, msg_key, content, cache_creation_tokens"
            " FROM messages WHERE id > ? AND role = 'assistant' AND cache_creation_tokens > 0"
            " ORDER BY id LIMIT ?",
            (int(rows[0][0]), batch),
        )
    )
    if not found:
        await conn.execute("DELETE FROM meta WHERE key = ?", (_CURSOR,))
        return None
    updates, sessions = [], set()
    for pk, session_pk, conversation_pk, msg_key, content, cache_creation in found:
        key = message_row_key(conversation_pk, msg_key)
        opened = codec.open("messages", "content", key, content)
        one_hour = min(max(_one_hour(orjson.loads(opened)), 0), cache_creation)
        if one_hour:
            updates.append((one_hour, pk))
            sessions.add(int(session_pk))
    await conn.executemany("UPDATE messages SET cache_creation_1h_tokens = ? WHERE id = ?", updates)
    await conn.execute("UPDATE meta SET value = ? WHERE key = ?", (str(found[-1][0]), _CURSOR))
    return sessions
