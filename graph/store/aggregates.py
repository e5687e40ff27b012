"""What a session's and a thread's rows imply (counts, token totals, time span, models),
recomputed for the ones a write transaction touched, just before it commits."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import aiosqlite

__all__ = ["refresh"]

_REFRESH_CONVERSATIONS = """
UPDATE conversations SET
    message_count = (SELECT count(*) FROM messages WHERE conversation_pk = conversations.id),
    event_count = (SELECT count(*) FROM events WHERE conversation_pk = conversations.id),
    started_at = (SELECT min(t) FROM (
        SELECT min(timestamp) AS t FROM messages WHERE conversation_pk = conversations.id
        UNION ALL SELECT min(timestamp) FROM events WHERE conversation_pk = conversations.id)),
    ended_at = (SELECT max(t) FROM (
        SELECT max(timestamp) AS t FROM messages WHERE conversation_pk = conversations.id
        UNION ALL SELECT max(timestamp) FROM events WHERE conversation_pk = conversations.id))
"""

# Token totals are summed with total() (a float: exact up to 2^53, and it can not
# overflow) and cast back, which saturates at 2^63 - 1 where sum() would raise
# "integer overflow" and fail the whole write.
_REFRESH_SESSION = """
UPDATE sessions SET
    conversation_count = c.conversations,
    sidechain_count = c.sidechains,
    message_count = c.messages,
    event_count = c.events,
    started_at = c.started_at,
    ended_at = c.ended_at,
    input_tokens = m.input_tokens,
    output_tokens = m.output_tokens,
    cache_read_tokens = m.cache_read_tokens,
    cache_creation_tokens = m.cache_creation_tokens,
    cache_creation_1h_tokens = m.cache_creation_1h_tokens,
    models = m.models
FROM (
    SELECT count(*) AS conversations, coalesce(sum(is_sidechain), 0) AS sidechains,
           coalesce(sum(message_count), 0) AS messages, coalesce(sum(event_count), 0) AS events,
           coalesce(min(started_at), '') AS started_at, coalesce(max(ended_at), '') AS ended_at
    FROM conversations WHERE session_pk = ?1
) AS c, (
    SELECT CAST(total(input_tokens) AS INTEGER) AS input_tokens,
           CAST(total(output_tokens) AS INTEGER) AS output_tokens,
           CAST(total(cache_read_tokens) AS INTEGER) AS cache_read_tokens,
           CAST(total(cache_creation_tokens) AS INTEGER) AS cache_creation_tokens,
           CAST(total(cache_creation_1h_tokens) AS INTEGER) AS cache_creation_1h_tokens,
           (SELECT json_group_array(model) FROM (
               SELECT DISTINCT model FROM messages
               WHERE session_pk = ?1 AND model IS NOT NULL AND billed = 1
               ORDER BY model)) AS models
    FROM messages WHERE session_pk = ?1 AND counted = 1  -- each API message once
) AS m
WHERE sessions.id = ?1
"""


async def refresh(
    conn: aiosqlite.Connection,
    sessions: Iterable[int],
    threads: Iterable[int],
    all_threads_of: Iterable[int],
) -> None:
    """Recompute the aggregates of ``threads``, of every thread of ``all_threads_of``
    (sessions), then of ``sessions``.

    Threads first (a session's counts are sums over its threads), and only the threads
    written to: recounting every thread of a long session on every batch made a large
    import's refreshes grow with the square of its length.
    """
    every = sorted(all_threads_of)
    if every:
        await conn.executemany(
            f"{_REFRESH_CONVERSATIONS} WHERE session_pk = ?", [(pk,) for pk in every]
        )
    written = sorted(threads)
    if written:
        await conn.executemany(f"{_REFRESH_CONVERSATIONS} WHERE id = ?", [(pk,) for pk in written])
    touched = sorted(sessions)
    if touched:
        await conn.executemany(_REFRESH_SESSION, [(pk,) for pk in touched])
