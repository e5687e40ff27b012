"""1-hour cache writes of sealed messages stored before migration 0008.

The migration reads them out of plaintext content with SQL; sealed content needs the
key, so the store reads them here, in batches, when it is next opened (the cursor is
kept in ``meta``, like ``message_rows``). Where a message's records keep the figure is
its format's business: the caller hands in the reading for each session ``source``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from graph.content import TokensOf, records_of
from graph.crypto import Codec
from graph.store.backfills import done_with, next_batch
from graph.store.rows import message_row_key

if TYPE_CHECKING:
    from collections.abc import Callable

    import aiosqlite

__all__ = ["fill_cache_ttl"]

_CURSOR = "usage_1h.after"


async def fill_cache_ttl(
    conn: aiosqlite.Connection,
    codec: Codec,
    cache_writes_1h_for: Callable[[str], TokensOf],
    *,
    batch: int = 500,
) -> set[int] | None:
    """Read one batch; the sessions whose totals changed, or ``None`` when done.

    ``cache_writes_1h_for(source)`` reads the 1-hour cache writes out of the records of
    a message of a session with ``source`` (at most its cache writes are kept). Call it
    in its own transaction (refreshing those sessions) until it returns ``None``.
    """
    found = await next_batch(
        conn,
        _CURSOR,
        "SELECT m.id, m.session_pk, m.conversation_pk, m.msg_key, m.content,"
        " m.cache_creation_tokens, s.source FROM messages AS m"
        " JOIN sessions AS s ON s.id = m.session_pk"
        " WHERE m.id > ? AND m.role = 'assistant' AND m.cache_creation_tokens > 0"
        " ORDER BY m.id LIMIT ?",
        lambda after: (after, batch),
    )
    if found is None:
        return None
    updates, sessions = [], set()
    for pk, session_pk, conversation_pk, msg_key, content, cache_creation, source in found:
        key = message_row_key(conversation_pk, msg_key)
        records = records_of(codec.open("messages", "content", key, content))
        one_hour = min(max(cache_writes_1h_for(source)(records), 0), cache_creation)
        if one_hour:
            updates.append((one_hour, pk))
            sessions.add(int(session_pk))
    await conn.executemany("UPDATE messages SET cache_creation_1h_tokens = ? WHERE id = ?", updates)
    await done_with(conn, _CURSOR, found)
    return sessions
