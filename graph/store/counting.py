"""Which copy of an API message counts in token totals and costs (``messages.counted``).

A resumed or forked session replays its parent's records under a new session id, and
both transcripts keep them; an API message must still count once. Copies share their
``msg_key``. The copy that counts is the
one in the session that had it first: the session whose first message is earliest, then
whose last message is earliest (a fork replays its parent's whole history, so both start
together, but the parent stops first), then by session id and pk so the choice never
depends on import order. Migration 0008 applied the same rule to existing rows.

Which messages are billed API responses, and which keys name a message within its own
file only (so that it has no copies), the importer says when it writes them
(``messages.billed`` and ``messages.local_key``, see :class:`graph.inputs.NewMessage`):
the store knows no format's rules. Only assistant messages can be billed (candidates are
found through the index of assistant messages' keys).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from graph.store.filters import json_list

if TYPE_CHECKING:
    import aiosqlite

__all__ = ["COUNTED", "MISCOUNTED", "elect", "elect_all"]

_BILLED = "{t}.role = 'assistant' AND {t}.billed = 1"

_FIRST_COPY = f"""
SELECT o.id FROM messages AS o
WHERE o.msg_key = m.msg_key AND {_BILLED.format(t="o")}
ORDER BY (SELECT min(f.timestamp) FROM messages AS f WHERE f.session_pk = o.session_pk),
         (SELECT max(f.timestamp) FROM messages AS f WHERE f.session_pk = o.session_pk),
         (SELECT s.session_id FROM sessions AS s WHERE s.id = o.session_pk),
         o.id
LIMIT 1
"""

# Whether message ``m`` is the copy that counts (1) or not (0).
COUNTED = f"({_BILLED.format(t='m')} AND (m.local_key = 1 OR m.id = ({_FIRST_COPY})))"

# Candidates: the assistant messages with a key just written or deleted, and those of the
# sessions just changed whose key also has a copy in another session (a session's span
# decides between copies, and writing to it may have moved its span).
_CANDIDATES = f"""
SELECT m.id, m.session_pk, m.counted, {COUNTED} FROM messages AS m
WHERE m.role = 'assistant' AND m.msg_key IN (
    SELECT value FROM json_each(?1)
    UNION
    SELECT x.msg_key FROM messages AS x
    WHERE x.session_pk IN (SELECT value FROM json_each(?2)) AND x.role = 'assistant'
      AND EXISTS (SELECT 1 FROM messages AS y WHERE y.msg_key = x.msg_key
                  AND y.role = 'assistant' AND y.session_pk <> x.session_pk)
)
"""


# API messages without exactly one counted copy (``doctor`` reports them).
MISCOUNTED = f"""
SELECT count(*) FROM (
    SELECT m.msg_key FROM messages AS m
    WHERE {_BILLED.format(t="m")} AND m.local_key = 0
    GROUP BY m.msg_key HAVING sum(m.counted) <> 1
)
"""


async def elect_all(conn: aiosqlite.Connection) -> None:
    """Decide again, for every message, whether it is the copy that counts (``repair``)."""
    await conn.execute(f"UPDATE messages AS m SET counted = {COUNTED}")


async def elect(
    conn: aiosqlite.Connection, keys: Iterable[str], sessions: Iterable[int]
) -> set[int]:
    """Decide again which copy counts, for ``keys`` and the shared keys of ``sessions``.

    Runs inside the write transaction, after its rows are written and before the
    sessions' totals are refreshed.

    Returns:
        The sessions that gained or lost a counted message (their totals are stale).
    """
    keys, sessions = sorted(set(keys)), sorted(set(sessions))
    if not keys and not sessions:
        return set()
    rows = await conn.execute_fetchall(_CANDIDATES, (json_list(keys), json_list(sessions)))
    changed = [(int(row[3]), int(row[0]), int(row[1])) for row in rows if row[2] != row[3]]
    if changed:
        await conn.executemany(
            "UPDATE messages SET counted = ? WHERE id = ?", [row[:2] for row in changed]
        )
    return {row[2] for row in changed}
