"""Reading the change feed (migrations 0003 and 0004): what was written, in commit order.

The feed is written by ``Writer.finish`` (graph/store/writes.py).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import TYPE_CHECKING

from graph.store.connection import StatementCounter, open_connection

if TYPE_CHECKING:
    from pathlib import Path

    import aiosqlite

    from graph.store.reads import Reader

__all__ = ["ChangeRow", "ChangeWatch", "changes_after", "changes_head", "head"]


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


class ChangeWatch:
    """A read-only connection of its own that sees every commit to the file, other
    processes' included (``PRAGMA data_version`` changes with each), for the live feed.

    Its statements are counted on ``counter`` (the feed's cost is asserted in tests).
    """

    def __init__(self, conn: aiosqlite.Connection, counter: StatementCounter) -> None:
        from graph.store.reads import Reader  # reads imports this module

        self._conn = conn
        self.counter = counter
        self.reader: Reader = Reader(conn, counter)

    @classmethod
    async def open(cls, path: Path, counter: StatementCounter | None = None) -> ChangeWatch:
        conn = await open_connection(path, readonly=True)
        return cls(conn, counter if counter is not None else StatementCounter())

    async def data_version(self) -> int:
        """A number that changes whenever any connection commits to the file."""
        self.counter.count += 1
        rows = list(await self._conn.execute_fetchall("PRAGMA data_version"))
        return int(rows[0][0])

    async def head(self) -> int:
        """The newest change number (not counted: read once, at start)."""
        return await head(self._conn)

    async def close(self) -> None:
        await self._conn.close()
