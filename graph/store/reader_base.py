"""What every read query runs on: one read-only connection, counted statements, and the
interruption of a query past the request's time limit."""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING, Any, TypeVar

from graph.errors import QueryTimeout
from graph.store.connection import StatementCounter
from graph.store.filters import json_list
from graph.store.rows import columns
from graph.store.transcripts import Transcripts

if TYPE_CHECKING:
    from collections.abc import Sequence

    import aiosqlite

__all__ = ["ReaderBase"]

R = TypeVar("R")


class ReaderBase:
    """One read-only connection, its statement count, and the helpers every read uses."""

    def __init__(self, conn: aiosqlite.Connection, counter: StatementCounter | None = None) -> None:
        self._conn = conn
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

    async def _all(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        self._count()
        try:
            return list(await self._conn.execute_fetchall(sql, params))
        except sqlite3.OperationalError as exc:
            if str(exc) == "interrupted":
                raise QueryTimeout(
                    "the query ran past the time limit and was stopped: ask for less"
                ) from exc
            raise

    async def _by_keys(
        self, row_type: type[R], table: str, column: str, keys: Sequence[Any]
    ) -> list[R | None]:
        rows = await self._all(
            f"SELECT {columns(row_type, 't')} FROM json_each(?) AS k "
            f"JOIN {table} AS t ON t.{column} = k.value",
            [json_list(list(keys))],
        )
        found = {row[column]: row_type(*row) for row in rows}
        return [found.get(key) for key in keys]
