"""Many narrow rows in one statement: the rows travel as one JSON array.

``executemany`` binds every row from Python, holding the GIL for each; for narrow rows
(a few ids and short strings) that binding costs more than SQLite's insert. Handing
SQLite the rows as one JSON document and letting ``json_each`` unpack them is about 2.5
times faster for such rows, and holds the GIL once for the whole statement, not once
per row. Wide rows (blobs, long text) go the other way: JSON escaping costs more than
binding, so they stay with ``executemany``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import orjson

if TYPE_CHECKING:
    import aiosqlite

__all__ = ["from_json", "insert_json"]


def from_json(columns: int) -> str:
    """``SELECT`` of ``columns`` values from each array of the JSON parameter ``?``.

    ``json_extract`` keeps each value's type: integers stay INTEGER, ``null`` is NULL.
    """
    values = ", ".join(f"json_extract(value, '$[{i}]')" for i in range(columns))
    return f"SELECT {values} FROM json_each(?)"


async def insert_json(conn: aiosqlite.Connection, sql: str, rows: Sequence[Sequence[Any]]) -> None:
    """Run ``sql`` (built with :func:`from_json`) on ``rows``, if there are any."""
    if rows:
        await conn.execute(sql, (orjson.dumps(rows),))
