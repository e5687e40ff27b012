"""Keeping the search index in step with the store, inside the same write transaction.

:class:`SearchIndexer` is a store write hook: whenever messages, events or session titles
are written, it rebuilds their documents in ``search_docs`` (whose triggers update the
FTS5 index). Deletions need nothing from it: documents cascade with their rows.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Final

import orjson

from graph.content import records_of
from graph.search.documents import (
    FIELD_COLUMNS,
    Fields,
    event_fields,
    message_fields,
    session_fields,
)
from graph.search.tokenize import index_text
from graph.store.filters import json_list

if TYPE_CHECKING:
    import aiosqlite

__all__ = ["SearchIndexer"]

_COLUMNS: Final = ", ".join(FIELD_COLUMNS)
_PLACEHOLDERS: Final = ", ".join("?" * len(FIELD_COLUMNS))
_UPDATE: Final = ", ".join(f"{c} = excluded.{c}" for c in FIELD_COLUMNS)
_BATCH: Final = 500


class SearchIndexer:
    """Writes search documents for changed rows (a :class:`~graph.store.WriteHook`).

    Args:
        analyze: Text of one field -> the token string FTS5 indexes. Plain databases
            index tokens as they are; encrypted ones pass keyed hashes.
    """

    def __init__(self, analyze: Callable[[str], str] = index_text) -> None:
        self.analyze = analyze

    def _tokens(self, fields: Fields) -> list[str]:
        return [self.analyze(fields.get(column)) for column in FIELD_COLUMNS]

    async def rows_written(
        self, conn: aiosqlite.Connection, table: str, pks: Sequence[int]
    ) -> None:
        for start in range(0, len(pks), _BATCH):
            chunk = list(pks[start : start + _BATCH])
            if table == "messages":
                await self._messages(conn, chunk)
            elif table == "events":
                await self._events(conn, chunk)
            elif table == "sessions":
                await self._sessions(conn, chunk)

    async def rows_deleted(
        self, conn: aiosqlite.Connection, table: str, pks: Sequence[int]
    ) -> None:
        """Nothing to do: documents are deleted with their rows by foreign keys."""

    async def _messages(self, conn: aiosqlite.Connection, pks: list[int]) -> None:
        rows = await conn.execute_fetchall(
            "SELECT id, session_pk, role, model, timestamp, content FROM messages "
            "WHERE id IN (SELECT value FROM json_each(?))",
            (json_list(pks),),
        )
        docs: list[tuple[Any, ...]] = [
            (row[1], row[0], row[2], row[3], row[4],
             *self._tokens(message_fields(records_of(row[5]))))
            for row in rows
        ]  # fmt: skip
        await conn.executemany(
            f"INSERT INTO search_docs (kind, session_pk, message_pk, role, model, timestamp,"
            f" {_COLUMNS}) VALUES ('message', ?, ?, ?, ?, ?, {_PLACEHOLDERS})"
            f" ON CONFLICT (message_pk) DO UPDATE SET role = excluded.role,"
            f" model = excluded.model, timestamp = excluded.timestamp, {_UPDATE}",
            docs,
        )

    async def _events(self, conn: aiosqlite.Connection, pks: list[int]) -> None:
        rows = await conn.execute_fetchall(
            "SELECT id, session_pk, timestamp, data FROM events "
            "WHERE id IN (SELECT value FROM json_each(?))",
            (json_list(pks),),
        )
        docs = [
            (row[1], row[0], row[2], *self._tokens(event_fields(orjson.loads(row[3]))))
            for row in rows
        ]
        await conn.executemany(
            f"INSERT INTO search_docs (kind, session_pk, event_pk, timestamp, {_COLUMNS})"
            f" VALUES ('event', ?, ?, ?, {_PLACEHOLDERS})"
            f" ON CONFLICT (event_pk) DO UPDATE SET timestamp = excluded.timestamp, {_UPDATE}",
            docs,
        )

    async def _sessions(self, conn: aiosqlite.Connection, pks: list[int]) -> None:
        rows = await conn.execute_fetchall(
            "SELECT id, started_at, title, summary FROM sessions "
            "WHERE id IN (SELECT value FROM json_each(?))",
            (json_list(pks),),
        )
        docs = [
            (row[0], row[1], *self._tokens(session_fields(_text(row[2]), _text(row[3]))))
            for row in rows
        ]
        await conn.executemany(
            f"INSERT INTO search_docs (kind, session_pk, timestamp, {_COLUMNS})"
            f" VALUES ('session', ?, ?, {_PLACEHOLDERS})"
            f" ON CONFLICT (session_pk) WHERE kind = 'session' DO UPDATE SET"
            f" timestamp = excluded.timestamp, {_UPDATE}",
            docs,
        )

    async def rebuild(self, conn: aiosqlite.Connection) -> int:
        """Index every row again from scratch (after a migration, or to repair)."""
        await conn.execute("DELETE FROM search_docs")
        await conn.execute("INSERT INTO search_fts (search_fts) VALUES ('delete-all')")
        total = 0
        for table in ("sessions", "messages", "events"):
            last = 0
            while True:
                rows = await conn.execute_fetchall(
                    f"SELECT id FROM {table} WHERE id > ? ORDER BY id LIMIT ?", (last, _BATCH)
                )
                pks = [int(row[0]) for row in rows]
                if not pks:
                    break
                await self.rows_written(conn, table, pks)
                total += len(pks)
                last = pks[-1]
        return total


def _text(value: str | bytes | None) -> str | None:
    return value.decode() if isinstance(value, bytes) else value
