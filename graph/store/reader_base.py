"""What every read query runs on: one read-only connection, counted statements, and the
interruption of a query past the request's time limit.

Small reads run on the event loop's thread. Handing a statement to aiosqlite's thread and
back costs about 85 µs of CPU and two wake-ups of the loop, more than a read of a few
rows through an index (a session by id takes ~30 µs). A read is small by its shape: at
most :data:`SMALL_READ` rows found through an index, without their records, and no
filter that could make it walk a long history (rows by key, an unfiltered page of
sessions, one session's unfiltered page of messages). Everything else (filtered pages,
pages of many parents, search, counts, records, exports) keeps the thread, where SQLite
works beside the loop.
"""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING, Any, Final, TypeVar

from graph.errors import QueryTimeout
from graph.store.connection import BUSY_TIMEOUT_MS, StatementCounter, sqlite_connection
from graph.store.filters import json_list
from graph.store.rows import columns
from graph.store.transcripts import Transcripts

if TYPE_CHECKING:
    from collections.abc import Sequence

    import aiosqlite

    from graph.store.pages import PageRequest

__all__ = ["SMALL_READ", "ReaderBase"]

R = TypeVar("R")

# The most rows a read may return and still run on the loop's thread.
SMALL_READ: Final = 64
_BLOCKING: Final = f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}"
_NOT_BLOCKING: Final = "PRAGMA busy_timeout = 0"


def _busy(exc: sqlite3.OperationalError) -> bool:
    return exc.sqlite_errorcode & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)


class ReaderBase:
    """One read-only connection, its statement count, and the helpers every read uses."""

    def __init__(self, conn: aiosqlite.Connection, counter: StatementCounter | None = None) -> None:
        self._conn = conn
        self._here = sqlite_connection(conn)
        self._counter = counter
        self.statements = 0

    @property
    def transcripts(self) -> Transcripts:
        """The importer's queries (statements not counted: no request asks for them)."""
        return Transcripts(self._conn)

    @property
    def connection(self) -> aiosqlite.Connection:
        """The underlying connection, for queries kept in other store modules."""
        return self._conn

    def _count(self) -> None:
        self.statements += 1
        if self._counter is not None:
            self._counter.count += 1

    async def _all(
        self, sql: str, params: Sequence[Any] = (), *, small: bool = False
    ) -> list[sqlite3.Row]:
        """The rows of ``sql``; a ``small`` read (see the module) on the loop's thread."""
        self._count()
        try:
            if small and self._here is not None:
                rows = self._run_here(self._here, sql, params)
                if rows is not None:
                    return rows
            return list(await self._conn.execute_fetchall(sql, params))
        except sqlite3.OperationalError as exc:
            if str(exc) == "interrupted":
                raise QueryTimeout(
                    "the query ran past the time limit and was stopped: ask for less"
                ) from exc
            raise

    @staticmethod
    def _small_page(filter_params: Sequence[Any], request: PageRequest) -> bool:
        """Whether a page of rows without records, read along an index, is a small read:
        unfiltered (a filter could walk a long history for a few rows) and short."""
        return not filter_params and request.limit < SMALL_READ

    @staticmethod
    def _run_here(conn: sqlite3.Connection, sql: str, params: Sequence[Any]) -> list[Any] | None:
        """The rows of ``sql`` run on this thread, or ``None`` when the database is locked:
        the loop never waits for a lock (the connection's thread does)."""
        conn.execute(_NOT_BLOCKING)
        try:
            return conn.execute(sql, params).fetchall()
        except sqlite3.OperationalError as exc:
            if _busy(exc):
                return None
            raise
        finally:
            conn.execute(_BLOCKING)

    async def _by_keys(
        self,
        row_type: type[R],
        table: str,
        column: str,
        keys: Sequence[Any],
        *,
        small: bool = False,
    ) -> list[R | None]:
        """The rows whose unique ``column`` is each of ``keys``; ``small``: rows without
        records, so a few keys make a small read."""
        rows = await self._all(
            f"SELECT {columns(row_type, 't')} FROM json_each(?) AS k "
            f"JOIN {table} AS t ON t.{column} = k.value",
            [json_list(list(keys))],
            small=small and len(keys) <= SMALL_READ,
        )
        found = {row[column]: row_type(*row) for row in rows}
        return [found.get(key) for key in keys]
