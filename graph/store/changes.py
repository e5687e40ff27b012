"""Reading the change feed (see migration 0003): what was written, in commit order."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import aiosqlite

__all__ = ["ChangeRow", "changes_after", "changes_head", "head", "in_line_order"]


@dataclass(frozen=True, slots=True)
class ChangeRow:
    seq: int
    session_pk: int
    kind: str
    target_pk: int


async def head(conn: aiosqlite.Connection) -> int:
    """The newest change number (0 when nothing was ever written)."""
    rows = list(await conn.execute_fetchall("SELECT coalesce(max(seq), 0) FROM changes"))
    return int(rows[0][0])


async def changes_after(
    conn: aiosqlite.Connection, seq: int, limit: int, session_pk: int | None = None
) -> list[ChangeRow]:
    """Up to ``limit`` changes after ``seq``, oldest first (of one session, if given)."""
    if session_pk is None:
        sql = "SELECT seq, session_pk, kind, target_pk FROM changes WHERE seq > ?"
        params: tuple[int, ...] = (seq,)
    else:
        sql = (
            "SELECT seq, session_pk, kind, target_pk FROM changes WHERE session_pk = ? AND seq > ?"
        )
        params = (session_pk, seq)
    rows = await conn.execute_fetchall(f"{sql} ORDER BY seq LIMIT ?", (*params, limit))
    return [ChangeRow(*row) for row in rows]


async def changes_head(conn: aiosqlite.Connection) -> int | None:
    """:func:`head`, or ``None`` on a database from before the change feed."""
    try:
        return await head(conn)
    except sqlite3.OperationalError:
        return None


async def in_line_order(conn: aiosqlite.Connection, start: int) -> None:
    """Renumber this transaction's changes (those after ``start``) in transcript order.

    The writer inserts a batch's messages before its events, so the triggers number them
    that way; a subscriber must see them in the order they were written. One change per
    row is kept (a message rewritten twice in one transaction is one change).
    """
    end = await head(conn)
    if end - start < 2:
        return
    await conn.execute(
        "INSERT INTO changes (session_pk, kind, target_pk)"
        " SELECT c.session_pk, c.kind, c.target_pk FROM changes AS c"
        " LEFT JOIN messages AS m ON c.kind = 'message' AND m.id = c.target_pk"
        " LEFT JOIN events AS e ON c.kind = 'event' AND e.id = c.target_pk"
        " WHERE c.seq > ?1 AND c.seq <= ?2"
        " GROUP BY c.kind, c.target_pk"
        " ORDER BY coalesce(m.conversation_pk, e.conversation_pk), coalesce(m.seq, e.seq),"
        " min(c.seq)",
        (start, end),
    )
    await conn.execute("DELETE FROM changes WHERE seq > ? AND seq <= ?", (start, end))
