"""SQL for what sessiongraph keeps that Claude Code may have deleted (see graph/retention.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import orjson

if TYPE_CHECKING:
    import aiosqlite

__all__ = ["session_files"]


async def session_files(conn: aiosqlite.Connection) -> list[tuple[str, list[str]]]:
    """Each session imported from transcript files, with the paths of those files."""
    rows = await conn.execute_fetchall(
        "SELECT s.session_id, json_group_array(f.path) FROM import_files AS f "
        "JOIN conversations AS c ON c.id = f.conversation_pk "
        "JOIN sessions AS s ON s.id = c.session_pk "
        "GROUP BY s.id ORDER BY s.id"
    )
    return [(str(row[0]), [str(p) for p in orjson.loads(row[1])]) for row in rows]
