"""Checking a database: SQLite's own checks, the FTS5 index, and our aggregates."""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING

from graph.store.counting import MISCOUNTED
from graph.store.indexing import SEARCHED_EVENTS

if TYPE_CHECKING:
    import aiosqlite

__all__ = ["check_database"]


async def check_database(conn: aiosqlite.Connection) -> list[str]:
    """Every problem found, one line each; an empty list means the database is sound."""
    problems: list[str] = []
    rows = await conn.execute_fetchall("PRAGMA integrity_check")
    problems += [f"integrity: {row[0]}" for row in rows if row[0] != "ok"]
    rows = await conn.execute_fetchall("PRAGMA foreign_key_check")
    problems += [f"foreign key: {row[0]} row {row[1]} -> {row[2]}" for row in rows]
    try:
        await conn.execute("INSERT INTO search_fts (search_fts) VALUES ('integrity-check')")
    except sqlite3.DatabaseError as exc:
        problems.append(f"search index: {exc} (run `sessiongraph doctor --repair`)")
    searched, parameters = SEARCHED_EVENTS
    [(rows_, docs, indexed)] = await conn.execute_fetchall(
        "SELECT (SELECT count(*) FROM messages)"
        f" + (SELECT count(*) FROM events WHERE {searched})"
        " + (SELECT count(*) FROM sessions WHERE coalesce(title, '') <> ''"
        " OR coalesce(summary, '') <> ''),"
        " (SELECT count(*) FROM search_docs), (SELECT count(*) FROM search_fts)",
        parameters,
    )
    if not rows_ == docs == indexed:
        problems.append(
            f"search index: {rows_} searchable rows, {docs} documents, {indexed} indexed "
            "(run `sessiongraph doctor --repair`)"
        )
    rows = await conn.execute_fetchall(
        "SELECT session_id FROM sessions AS s WHERE message_count <>"
        " (SELECT count(*) FROM messages WHERE session_pk = s.id) OR event_count <>"
        " (SELECT count(*) FROM events WHERE session_pk = s.id) LIMIT 20"
    )
    problems += [
        f"session {row[0]}: stored counts disagree with its rows "
        "(run `sessiongraph doctor --repair`)"
        for row in rows
    ]
    [(miscounted,)] = await conn.execute_fetchall(MISCOUNTED)
    if miscounted:
        problems.append(
            f"usage: {miscounted} API messages are not counted exactly once "
            "(run `sessiongraph doctor --repair`)"
        )
    return problems
