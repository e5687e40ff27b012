"""Reading the change feed (migrations 0003 and 0004): what was written, in commit order.

The feed is written by ``Writer.finish`` (graph/store/writes.py).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import aiosqlite

__all__ = ["ChangeRow", "changes_after", "changes_head", "head"]


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
